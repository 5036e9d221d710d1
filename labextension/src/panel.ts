/**
 * The drafting side panel: draws a `DraftModel` and puts its text into the
 * active notebook cell or text editor.
 *
 * All text (model names, prompts, generated text, kernel messages) is set as
 * text content; nothing is parsed as HTML.
 */

import { LabIcon } from '@jupyterlab/ui-components';
import { Widget } from '@lumino/widgets';

import { DraftModel, IDraftSettings } from './draft';
import { LIMITS } from './protocol';
import { EditorTargets, InsertMode, contextBeforeCursor, insertText } from './targets';

/** How much text before the cursor "Continue from cursor" sends (characters). */
const CONTINUE_CHARS = 4000;

/** The range of "Max tokens": the kernel's limits of a `generate` request (at least 1). */
const MAX_TOKENS_LOW = Math.max(1, LIMITS.generate.max_tokens_low);
const MAX_TOKENS_HIGH = LIMITS.generate.max_tokens_high;

export const draftIcon = new LabIcon({
  name: 'jupyter-llm:draft',
  svgstr:
    '<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16" viewBox="0 0 24 24">' +
    '<path class="jp-icon3" fill="#616161" d="M3 17.25V21h3.75L17.81 9.94l-3.75-3.75L3 17.25zM20.71 7.04a1 1 0 0 0 0-1.41l-2.34-2.34a1 1 0 0 0-1.41 0l-1.83 1.83 3.75 3.75 1.83-1.83z"/>' +
    '<circle class="jp-icon-brand0" fill="#1976d2" cx="19" cy="18" r="3"/></svg>'
});

export class DraftPanel extends Widget {
  constructor(
    readonly model: DraftModel,
    private _targets: EditorTargets
  ) {
    super();
    this.id = 'jupyter-llm-draft';
    this.addClass('jp-LLMDraft');
    this.title.icon = draftIcon;
    this.title.caption = 'jupyter_llm drafting';
    this._build();
    model.changed.connect(this._render, this);
    model.chunk.connect(this._onChunk, this);
    _targets.changed.connect(this._onTargets, this);
    this._onTargets();
  }

  /** Apply new defaults from the settings to the controls. */
  applySettings(settings: IDraftSettings): void {
    this.model.settings = settings;
    this._maxTokens.value = String(settings.maxTokens);
    this._temperature.value = String(settings.temperature);
    this._topP.value = settings.topP === null ? '' : String(settings.topP);
    this._readControls();
  }

  /**
   * Generate a continuation of the text before the cursor of the active editor
   * (in a notebook, after the Markdown cells above it).
   */
  async continueFromCursor(): Promise<void> {
    const target = this._targets.current;
    if (!target?.editor) {
      this._showError('Put the cursor in a notebook cell or a text file first.');
      return;
    }
    this._prompt.value = contextBeforeCursor(target).slice(-CONTINUE_CHARS);
    await this.generate();
  }

  async generate(): Promise<void> {
    if (!this._readControls()) {
      return;
    }
    this._output.textContent = '';
    await this.model.generate(this._prompt.value);
  }

  /** Put the generated text into the active cell or editor. */
  insert(mode: InsertMode): void {
    const target = this._targets.current;
    const text = this.model.text;
    if (!target?.editor) {
      this._showError('Open a notebook cell or a text file to insert into.');
      return;
    }
    if (!text) {
      return;
    }
    insertText(target.editor, text, mode);
    target.editor.focus();
  }

  dispose(): void {
    this.model.autoRefresh = false;
    super.dispose();
  }

  protected onAfterShow(): void {
    this.model.autoRefresh = true;
    this._onTargets();
    void this.model.refreshModels();
  }

  protected onAfterHide(): void {
    this.model.autoRefresh = false;
  }

  protected onActivateRequest(): void {
    this._prompt.focus();
  }

  // === Building ===

  private _build(): void {
    const root = this.node;
    const header = div('jp-LLMDraft-header');
    header.appendChild(text('h2', 'jp-LLMDraft-title', 'Drafting'));
    header.appendChild(this._status);
    root.appendChild(header);

    this._kernelRow.appendChild(label('Kernel for text files', this._kernelPicker));
    this._kernelPicker.addEventListener('change', () =>
      this._targets.pick(this._kernelPicker.value || null)
    );
    root.appendChild(this._kernelRow);

    this._loadBox.appendChild(this._loadMessage);
    root.appendChild(this._loadBox);

    const modelRow = div('jp-LLMDraft-row jp-LLMDraft-modelRow');
    modelRow.appendChild(label('Model', this._model));
    this._model.addEventListener('change', () => (this.model.modelKey = this._model.value));
    this._refresh.addEventListener('click', () => void this.model.refreshModels());
    modelRow.appendChild(this._refresh);
    root.appendChild(modelRow);

    const controls = div('jp-LLMDraft-controls');
    number(this._maxTokens, MAX_TOKENS_LOW, MAX_TOKENS_HIGH, 1);
    number(this._temperature, 0.05, 5, 0.05);
    number(this._topP, 0.01, 1, 0.05);
    number(this._seed, 0, 2 ** 31 - 1, 1);
    this._topP.placeholder = 'off';
    this._seed.placeholder = 'random';
    controls.appendChild(label('Max tokens', this._maxTokens));
    controls.appendChild(label('Temperature', this._temperature));
    controls.appendChild(label('Top-p', this._topP));
    controls.appendChild(label('Seed', this._seed));
    root.appendChild(controls);

    this._prompt.placeholder = 'Prompt: the text to continue. Ctrl+Enter generates.';
    this._prompt.rows = 5;
    this._prompt.addEventListener('keydown', event => {
      if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        void this.generate();
      }
    });
    root.appendChild(label('Prompt', this._prompt, 'jp-LLMDraft-promptLabel'));

    const actions = div('jp-LLMDraft-row jp-LLMDraft-actions');
    this._generate.addEventListener('click', () => void this.generate());
    this._stop.addEventListener('click', () => this.model.stop());
    this._continue.addEventListener('click', () => void this.continueFromCursor());
    actions.append(this._generate, this._stop, this._continue);
    root.appendChild(actions);

    root.appendChild(this._error);
    const outputHeader = div('jp-LLMDraft-outputHeader');
    outputHeader.appendChild(text('span', 'jp-LLMDraft-outputTitle', 'Draft'));
    outputHeader.appendChild(this._stats);
    root.appendChild(outputHeader);
    this._output.setAttribute('aria-live', 'polite');
    this._output.setAttribute('aria-label', 'Generated text');
    root.appendChild(this._output);

    const insertRow = div('jp-LLMDraft-row jp-LLMDraft-insertRow');
    this._insert.addEventListener('click', () => this.insert('cursor'));
    this._replace.addEventListener('click', () => this.insert('selection'));
    this._append.addEventListener('click', () => this.insert('append'));
    insertRow.append(this._insert, this._replace, this._append);
    root.appendChild(insertRow);
    root.appendChild(this._target);
  }

  /** Read the decoding controls into the model; false (with a message) when one is invalid. */
  private _readControls(): boolean {
    const maxTokens = this._maxTokens.valueAsNumber;
    const temperature = this._temperature.valueAsNumber;
    const topP = this._topP.value === '' ? null : this._topP.valueAsNumber;
    const seed = this._seed.value === '' ? null : this._seed.valueAsNumber;
    const problems: string[] = [];
    if (!Number.isInteger(maxTokens) || maxTokens < MAX_TOKENS_LOW || maxTokens > MAX_TOKENS_HIGH) {
      problems.push(`Max tokens: expected an integer from ${MAX_TOKENS_LOW} to ${MAX_TOKENS_HIGH}.`);
    }
    if (!(temperature > 0)) {
      problems.push('Temperature: expected a number above 0.');
    }
    if (topP !== null && !(topP > 0 && topP <= 1)) {
      problems.push('Top-p: expected a number in (0, 1], or empty.');
    }
    if (seed !== null && !(Number.isInteger(seed) && seed >= 0)) {
      problems.push('Seed: expected a whole number, or empty.');
    }
    if (problems.length) {
      this._showError(problems.join(' '));
      return false;
    }
    this.model.decoding = { max_tokens: maxTokens, temperature, top_p: topP, seed };
    return true;
  }

  // === Rendering ===

  private _onChunk(_: DraftModel, chunk: string): void {
    this._output.appendChild(document.createTextNode(chunk));
    this._output.scrollTop = this._output.scrollHeight;
  }

  private _onTargets(): void {
    const current = this._targets.current;
    const widget = current?.widget ?? this._lastTarget;
    if (current) {
      this._lastTarget = current.widget;
    }
    if (this.isVisible) {
      // Only a panel in view opens a channel: no comm for kernels nobody drafts with.
      this.model.setKernel(widget ? this._targets.kernelFor(widget) : null);
    }
    this._render();
  }

  private _render(): void {
    const m = this.model;
    const state = m.channelState;
    const channel = m.channel;
    const current = this._targets.current;

    // Kernel and its state.
    const kernelName = channel ? channel.kernel.name : '';
    const labels: Record<string, string> = {
      'no-kernel': 'No kernel: open a notebook, or pick a kernel for text files.',
      connecting: `Connecting to ${kernelName}…`,
      ready: `${kernelName} · ${channel?.info ? `jupyter_llm ${channel.info.version}` : ''}`,
      'not-loaded': `${kernelName} · jupyter_llm not loaded`,
      incompatible: `${kernelName} · incompatible jupyter_llm`,
      restarting: `${kernelName} · restarting…`,
      dead: `${kernelName} · not running`
    };
    this._status.dataset.state = state;
    this._statusText.textContent = labels[state] ?? state;

    // The kernel picker, for text files (or when no notebook is open).
    const showPicker = current?.kind !== 'notebook';
    this._kernelRow.hidden = !showPicker;
    if (showPicker) {
      const choices = this._targets.choices();
      const chosen = this._targets.fileSessionId ?? '';
      replaceOptions(
        this._kernelPicker,
        choices.map(c => [c.sessionId, c.label]),
        chosen,
        'No running kernel'
      );
    }

    // Where jupyter_llm is missing: one line saying what to run (the channel connects by itself after).
    const notLoaded = state === 'not-loaded' || state === 'incompatible';
    this._loadBox.hidden = !notLoaded;
    this._loadMessage.textContent = channel?.message ?? '';

    // Models.
    replaceOptions(
      this._model,
      m.models.map(x => [x.key, x.label]),
      m.model?.key ?? '',
      state === 'ready' ? 'No model yet' : '—'
    );
    this._model.disabled = state !== 'ready' || m.models.length === 0;
    this._refresh.disabled = state !== 'ready';

    // Actions.
    const generating = m.status === 'generating';
    const canGenerate = state === 'ready' && !!m.model && !generating;
    this._generate.disabled = !canGenerate;
    this._continue.disabled = !canGenerate;
    this._stop.disabled = !generating;
    this._stop.hidden = !generating;
    this._generate.hidden = generating;

    // Output.
    this._output.dataset.status = m.status;
    if (!generating && this._output.textContent !== m.text) {
      this._output.textContent = m.text;
    }
    this._output.classList.toggle('jp-mod-empty', !m.text && !generating);
    if (!m.text && !generating) {
      this._output.textContent = '';
    }
    const words: Record<string, string> = {
      idle: '',
      generating: 'Generating…',
      done: `Done in ${m.elapsed.toFixed(1)} s`,
      stopped: `Stopped after ${m.elapsed.toFixed(1)} s`,
      error: ''
    };
    this._stats.textContent = [words[m.status], m.text ? `${m.text.length} characters` : '']
      .filter(Boolean)
      .join(' · ');
    const error = m.error || (m.warnings.length ? m.warnings.join(' ') : '');
    this._error.textContent = error;
    this._error.hidden = !error;
    this._error.classList.toggle('jp-mod-warning', !m.error && !!error);

    // Where the text goes.
    const hasText = !!m.text && !generating;
    const hasEditor = !!current; // its editor may appear later (a new cell): `insert` checks again
    for (const button of [this._insert, this._replace, this._append]) {
      button.disabled = !hasText || !hasEditor;
    }
    this._target.textContent = current
      ? `Inserts into ${current.label}`
      : 'Inserts into the active notebook cell or text editor';
  }

  private _showError(message: string): void {
    this._error.textContent = message;
    this._error.hidden = false;
  }

  private _statusText = text('span', 'jp-LLMDraft-statusText', '');
  private _status = (() => {
    const node = div('jp-LLMDraft-status');
    node.appendChild(div('jp-LLMDraft-dot'));
    node.appendChild(this._statusText);
    node.setAttribute('role', 'status');
    return node;
  })();
  private _kernelRow = div('jp-LLMDraft-row jp-LLMDraft-kernelRow');
  private _kernelPicker = select('jp-LLMDraft-kernelPicker');
  private _loadBox = div('jp-LLMDraft-loadBox');
  private _loadMessage = text('p', 'jp-LLMDraft-loadMessage', '');
  private _model = select('jp-LLMDraft-model');
  private _refresh = button('jp-LLMDraft-refresh', '↻', 'List the models of the kernel again');
  private _maxTokens = input('jp-LLMDraft-maxTokens');
  private _temperature = input('jp-LLMDraft-temperature');
  private _topP = input('jp-LLMDraft-topP');
  private _seed = input('jp-LLMDraft-seed');
  private _prompt = (() => {
    const node = document.createElement('textarea');
    node.className = 'jp-LLMDraft-prompt';
    return node;
  })();
  private _generate = button('jp-LLMDraft-generate jp-mod-accept', 'Generate');
  private _stop = button('jp-LLMDraft-stop jp-mod-warn', 'Stop');
  private _continue = button(
    'jp-LLMDraft-continue',
    'Continue from cursor',
    'Continue the text before the cursor of the active cell or file'
  );
  private _error = (() => {
    const node = text('div', 'jp-LLMDraft-error', '');
    node.hidden = true;
    node.setAttribute('role', 'alert');
    return node;
  })();
  private _stats = text('span', 'jp-LLMDraft-stats', '');
  private _output = div('jp-LLMDraft-output');
  private _insert = button('jp-LLMDraft-insert', 'Insert at cursor');
  private _replace = button('jp-LLMDraft-replace', 'Replace selection');
  private _append = button('jp-LLMDraft-append', 'Append');
  private _target = text('div', 'jp-LLMDraft-target', '');
  private _lastTarget: Widget | null = null;
}

// === DOM helpers (text only) ===

function div(className: string): HTMLDivElement {
  const node = document.createElement('div');
  node.className = className;
  return node;
}

function text(tag: string, className: string, content: string): HTMLElement {
  const node = document.createElement(tag);
  node.className = className;
  node.textContent = content;
  return node;
}

function button(className: string, content: string, title?: string): HTMLButtonElement {
  const node = document.createElement('button');
  node.type = 'button';
  node.className = `jp-LLMDraft-button ${className}`;
  node.textContent = content;
  if (title) {
    node.title = title;
    node.setAttribute('aria-label', title);
  }
  return node;
}

function select(className: string): HTMLSelectElement {
  const node = document.createElement('select');
  node.className = `jp-LLMDraft-select ${className}`;
  return node;
}

function input(className: string): HTMLInputElement {
  const node = document.createElement('input');
  node.className = `jp-LLMDraft-input ${className}`;
  return node;
}

function number(node: HTMLInputElement, min: number, max: number, step: number): void {
  node.type = 'number';
  node.min = String(min);
  node.max = String(max);
  node.step = String(step);
}

function label(caption: string, control: HTMLElement, className = ''): HTMLLabelElement {
  const node = document.createElement('label');
  node.className = `jp-LLMDraft-label ${className}`.trim();
  const span = document.createElement('span');
  span.textContent = caption;
  node.append(span, control);
  return node;
}

function replaceOptions(
  node: HTMLSelectElement,
  options: [string, string][],
  chosen: string,
  empty: string
): void {
  const wanted = options.length ? options : [['', empty] as [string, string]];
  const same =
    node.options.length === wanted.length &&
    wanted.every(
      ([value, caption], i) =>
        node.options[i].value === value && node.options[i].textContent === caption
    );
  if (!same) {
    node.textContent = '';
    for (const [value, caption] of wanted) {
      const option = document.createElement('option');
      option.value = value;
      option.textContent = caption;
      node.appendChild(option);
    }
  }
  node.value = chosen;
}
