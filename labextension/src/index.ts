/**
 * The JupyterLab front end of jupyter_llm.
 *
 * - the drafting side panel (panel.ts over draft.ts), following the active
 *   notebook's kernel or a kernel picked for text files (targets.ts);
 * - inline completion in Markdown cells and text files (completer.ts);
 * - the commands "Open drafting panel", "Continue writing with jupyter_llm",
 *   "Show attention for selection";
 * - "Insert below" of the GeneratePanel widget: the kernel's `insert_cell`
 *   event (insertCell.ts);
 * - the attention renderer is a mime extension (mime.ts).
 *
 * Everything reaches the kernel through one comm channel (channel.ts).
 */

import {
  ILabShell,
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ICommandPalette, MainAreaWidget } from '@jupyterlab/apputils';
import { ICompletionProviderManager } from '@jupyterlab/completer';
import { IEditorTracker } from '@jupyterlab/fileeditor';
import { INotebookTracker } from '@jupyterlab/notebook';
import { ISettingRegistry } from '@jupyterlab/settingregistry';

import { RenderedAttention } from './attention';
import { ChannelRegistry } from './channel';
import { CommandIDs, PALETTE_CATEGORY } from './commands';
import { KernelInlineCompleter } from './completer';
import { CellInserter } from './insertCell';
import { DEFAULT_SETTINGS, DraftModel, IDraftSettings, errorMessage } from './draft';
import { chooseModel } from './models';
import { DraftPanel, draftIcon } from './panel';
import { LIMITS } from './protocol';
import { EditorTargets, selectedText } from './targets';

const PLUGIN_ID = '@jupyter-llm/labextension:plugin';

/**
 * The longest text "Show attention for selection" sends (characters): the
 * kernel's limit in tokens, since a token is at least one character.
 */
const ATTENTION_CHARS = LIMITS.attention.max_tokens;

const plugin: JupyterFrontEndPlugin<void> = {
  id: PLUGIN_ID,
  description:
    'The jupyter_llm drafting panel, inline completion and commands, over a kernel comm.',
  autoStart: true,
  optional: [
    ILabShell,
    ILayoutRestorer,
    INotebookTracker,
    IEditorTracker,
    ICommandPalette,
    ISettingRegistry,
    ICompletionProviderManager
  ],
  activate: (
    app: JupyterFrontEnd,
    labShell: ILabShell | null,
    restorer: ILayoutRestorer | null,
    notebooks: INotebookTracker | null,
    editors: IEditorTracker | null,
    palette: ICommandPalette | null,
    settings: ISettingRegistry | null,
    completions: ICompletionProviderManager | null
  ) => {
    const channels = new ChannelRegistry();
    const targets = new EditorTargets(app, notebooks, editors, labShell);
    const draft = new DraftModel(channels);
    const panel = new DraftPanel(draft, targets);
    app.shell.add(panel, 'right', { rank: 650 });
    restorer?.add(panel, panel.id);

    // A notebook whose kernel loads jupyter_llm announces it: be ready to listen.
    notebooks?.widgetAdded.connect((_, nb) => {
      const watch = () => {
        const kernel = nb.sessionContext.session?.kernel;
        if (kernel) {
          channels.watch(kernel);
        }
      };
      nb.sessionContext.kernelChanged.connect(watch);
      void nb.sessionContext.ready.then(watch);
    });

    if (notebooks) {
      const inserter = new CellInserter(notebooks);
      channels.insertRequested.connect((_, request) => {
        if (!inserter.insert(request)) {
          console.warn('jupyter_llm: no open notebook holds the panel that asked to insert a cell');
        }
      });
    }

    const completer = new KernelInlineCompleter(channels, targets, draft);
    if (completions && 'registerInlineProvider' in completions) {
      completions.registerInlineProvider(completer);
    }

    let current: IDraftSettings = { ...DEFAULT_SETTINGS };
    const apply = (composite: Partial<IDraftSettings>) => {
      current = { ...DEFAULT_SETTINGS, ...composite };
      completer.enabled = current.inlineCompletion;
      panel.applySettings(current);
      if (app.commands.hasCommand(CommandIDs.toggleInline)) {
        app.commands.notifyCommandChanged(CommandIDs.toggleInline);
      }
    };
    apply({});
    let setting: ISettingRegistry.ISettings | null = null;
    if (settings) {
      settings
        .load(PLUGIN_ID)
        .then(s => {
          setting = s;
          apply(s.composite as Partial<IDraftSettings>);
          s.changed.connect(() => apply(s.composite as Partial<IDraftSettings>));
        })
        .catch(reason => console.error('jupyter_llm: cannot load the settings', reason));
    }

    const hasEditor = () => !!targets.current?.editor;

    app.commands.addCommand(CommandIDs.openPanel, {
      label: 'Open drafting panel',
      caption: 'Draft text with the model of the kernel',
      icon: draftIcon,
      execute: () => app.shell.activateById(panel.id)
    });

    app.commands.addCommand(CommandIDs.continueWriting, {
      label: 'Continue writing with jupyter_llm',
      caption: 'Generate a continuation of the text before the cursor (drafting panel)',
      icon: draftIcon,
      isEnabled: hasEditor,
      execute: async () => {
        app.shell.activateById(panel.id);
        await panel.continueFromCursor();
      }
    });

    app.commands.addCommand(CommandIDs.showAttention, {
      label: 'Show attention for selection',
      caption: 'What the model attends to in the selected text (or the line of the cursor)',
      isEnabled: hasEditor,
      execute: async () => {
        const target = targets.current;
        const editor = target?.editor;
        if (!target || !editor) {
          return;
        }
        let text = selectedText(editor);
        if (!text.trim()) {
          const line = editor.getCursorPosition().line;
          text = editor.getLine(line) ?? '';
        }
        text = text.slice(0, ATTENTION_CHARS);
        const view = new RenderedAttention();
        const widget = new MainAreaWidget({ content: view });
        widget.id = `jupyter-llm-attention-${Date.now()}`;
        widget.title.label = `Attention: ${text.trim().slice(0, 24) || '(empty)'}`;
        widget.title.icon = draftIcon;
        widget.title.closable = true;
        widget.addClass('jp-LLMAttentionPanel');
        app.shell.add(widget, 'main', { mode: 'split-right' });
        const kernel = targets.kernelFor(target.widget);
        try {
          if (!text.trim()) {
            throw new Error('Select some text first.');
          }
          if (!kernel) {
            throw new Error(
              'There is no kernel to ask: open a notebook, or pick a kernel in the drafting panel.'
            );
          }
          const channel = channels.get(kernel);
          await channel.ready();
          const model =
            (draft.channel === channel ? draft.model : null) ??
            chooseModel(await channel.request('list_models', {}), draft.settings.model);
          if (!model) {
            throw new Error('There is no model in this kernel yet.');
          }
          const reply = await channel.request('attention', { model: model.key, text });
          view.setData(reply.attention);
        } catch (e) {
          view.showError(errorMessage(e));
        }
      }
    });

    app.commands.addCommand(CommandIDs.toggleInline, {
      label: 'Inline completion with jupyter_llm',
      caption: 'Ghost-text suggestions from the kernel model in Markdown cells and text files',
      isToggled: () => current.inlineCompletion,
      execute: async () => {
        const value = !current.inlineCompletion;
        if (setting) {
          await setting.set('inlineCompletion', value);
        } else {
          apply({ ...current, inlineCompletion: value });
        }
      }
    });

    for (const command of Object.values(CommandIDs)) {
      palette?.addItem({ command, category: PALETTE_CATEGORY });
    }
    const selectors = ['.jp-Notebook .jp-Cell .jp-Editor', '.jp-FileEditor'];
    for (const selector of selectors) {
      app.contextMenu.addItem({ type: 'separator', selector, rank: 90 });
      app.contextMenu.addItem({ command: CommandIDs.continueWriting, selector, rank: 91 });
      app.contextMenu.addItem({ command: CommandIDs.showAttention, selector, rank: 92 });
    }
  }
};

export default [plugin];
