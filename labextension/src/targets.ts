/**
 * Where drafted text goes, and which kernel drafts it.
 *
 * The target is the current main-area widget: a notebook (its active cell) or
 * a file editor. A notebook drafts with its own kernel. A text or Markdown file
 * has no kernel of its own: it uses the kernel the user picked in the panel,
 * else the kernel of the most recently active notebook, else the only running
 * kernel.
 */

import { ILabShell, JupyterFrontEnd } from '@jupyterlab/application';
import { CodeEditor } from '@jupyterlab/codeeditor';
import { IDocumentWidget } from '@jupyterlab/docregistry';
import { FileEditor, IEditorTracker } from '@jupyterlab/fileeditor';
import { INotebookTracker, NotebookPanel } from '@jupyterlab/notebook';
import { Kernel, Session } from '@jupyterlab/services';
import { IDisposable } from '@lumino/disposable';
import { ISignal, Signal } from '@lumino/signaling';
import { Widget } from '@lumino/widgets';

/** File names whose text the inline completer continues. */
const TEXT_FILE = /\.(md|markdown|txt|rst|text)$/i;

export interface IEditorTarget {
  kind: 'notebook' | 'file';
  widget: Widget;
  /** For the user: "notes.md" or "draft.ipynb, cell 3". */
  label: string;
  editor: CodeEditor.IEditor | null;
  /** A Markdown cell, or a text or Markdown file. */
  isProse: boolean;
}

export interface IKernelChoice {
  sessionId: string;
  label: string;
}

export class EditorTargets implements IDisposable {
  constructor(
    private _app: JupyterFrontEnd,
    private _notebooks: INotebookTracker | null,
    private _editors: IEditorTracker | null,
    labShell: ILabShell | null
  ) {
    labShell?.currentChanged.connect(this._emit, this);
    _notebooks?.currentChanged.connect(this._onNotebook, this);
    _notebooks?.activeCellChanged.connect(this._emit, this);
    _editors?.currentChanged.connect(this._emit, this);
    _app.serviceManager.sessions.runningChanged.connect(this._onSessions, this);
    this._onNotebook();
  }

  /** Emitted when the target, its kernel or the list of kernels changes. */
  get changed(): ISignal<this, void> {
    return this._changed;
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  /** The widget drafted text goes to, or null when it is neither a notebook nor a file editor. */
  get current(): IEditorTarget | null {
    return this.describe(this._app.shell.currentWidget);
  }

  describe(widget: Widget | null | undefined): IEditorTarget | null {
    widget = this._documentOf(widget);
    if (!widget) {
      return null;
    }
    if (this._notebooks?.has(widget)) {
      const panel = widget as NotebookPanel;
      const cell = panel.content.activeCell;
      const index = panel.content.activeCellIndex;
      return {
        kind: 'notebook',
        widget,
        label: `${panel.context.localPath}, cell ${index + 1}`,
        editor: cell?.editor ?? null,
        isProse: cell?.model.type === 'markdown'
      };
    }
    if (this._editors?.has(widget)) {
      const doc = widget as IDocumentWidget<FileEditor>;
      const path = doc.context.localPath;
      return {
        kind: 'file',
        widget,
        label: path,
        editor: doc.content.editor,
        isProse: TEXT_FILE.test(path)
      };
    }
    return null;
  }

  /** The kernel that drafts for `widget` (a notebook's own, or the one chosen for files). */
  kernelFor(widget: Widget | null | undefined): Kernel.IKernelConnection | null {
    widget = this._documentOf(widget);
    if (widget && this._notebooks?.has(widget)) {
      return (widget as NotebookPanel).sessionContext.session?.kernel ?? null;
    }
    const id = this.fileSessionId;
    return id ? this._kernelOfSession(id) : null;
  }

  /** The running kernels a text file may draft with. */
  choices(): IKernelChoice[] {
    const out: IKernelChoice[] = [];
    for (const model of this._app.serviceManager.sessions.running()) {
      if (model.kernel) {
        out.push({
          sessionId: model.id,
          label: `${model.name || model.path} (${model.kernel.name})`
        });
      }
    }
    return out;
  }

  /** The session whose kernel drafts for text files: picked, else a sensible default. */
  get fileSessionId(): string | null {
    const running = this.choices().map(c => c.sessionId);
    if (this._picked && running.includes(this._picked)) {
      return this._picked;
    }
    const recent = this._notebooks?.currentWidget?.sessionContext.session?.id;
    if (recent && running.includes(recent)) {
      return recent;
    }
    return running.length > 0 ? running[0] : null;
  }

  /** Choose the kernel (by session id) that drafts for text files. */
  pick(sessionId: string | null): void {
    this._picked = sessionId;
    this._changed.emit();
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    this._sessions.forEach(s => s.dispose());
    this._sessions.clear();
    Signal.disconnectReceiver(this);
    Signal.clearData(this);
  }

  /** The notebook panel or document widget of `widget` (which may be their content). */
  private _documentOf(widget: Widget | null | undefined): Widget | null {
    const tracked = (w: Widget) => !!this._notebooks?.has(w) || !!this._editors?.has(w);
    for (let w = widget ?? null; w; w = w.parent) {
      if (tracked(w)) {
        return w;
      }
    }
    return widget ?? null;
  }

  private _kernelOfSession(id: string): Kernel.IKernelConnection | null {
    for (const panel of this._openNotebooks()) {
      if (panel.sessionContext.session?.id === id) {
        return panel.sessionContext.session.kernel;
      }
    }
    let session = this._sessions.get(id);
    if (!session || session.isDisposed) {
      const model = [...this._app.serviceManager.sessions.running()].find(m => m.id === id);
      if (!model) {
        return null;
      }
      session = this._app.serviceManager.sessions.connectTo({ model });
      this._sessions.set(id, session);
    }
    return session.kernel;
  }

  private _openNotebooks(): NotebookPanel[] {
    const out: NotebookPanel[] = [];
    this._notebooks?.forEach(panel => out.push(panel));
    return out;
  }

  private _onNotebook(): void {
    const panel = this._notebooks?.currentWidget ?? null;
    if (panel !== this._watched) {
      this._watched?.sessionContext.kernelChanged.disconnect(this._emit, this);
      this._watched = panel;
      panel?.sessionContext.kernelChanged.connect(this._emit, this);
    }
    this._emit();
  }

  private _onSessions(): void {
    const running = new Set(this.choices().map(c => c.sessionId));
    for (const [id, session] of this._sessions) {
      if (!running.has(id)) {
        session.dispose();
        this._sessions.delete(id);
      }
    }
    this._emit();
  }

  private _emit(): void {
    this._changed.emit();
  }

  private _changed = new Signal<this, void>(this);
  private _isDisposed = false;
  private _picked: string | null = null;
  private _sessions = new Map<string, Session.ISessionConnection>();
  private _watched: NotebookPanel | null = null;
}

// === Editing ===

/** The text of `editor` before its cursor. */
export function textBeforeCursor(editor: CodeEditor.IEditor): string {
  const offset = editor.getOffsetAt(editor.getCursorPosition());
  return editor.model.sharedModel.getSource().slice(0, offset);
}

/**
 * The text a continuation of `target` should read: the text before the cursor,
 * and in a notebook the Markdown cells above it (a document drafted cell by cell).
 */
export function contextBeforeCursor(target: IEditorTarget): string {
  if (!target.editor) {
    return '';
  }
  const here = textBeforeCursor(target.editor);
  if (target.kind !== 'notebook') {
    return here;
  }
  const notebook = (target.widget as NotebookPanel).content;
  const above = notebook.widgets
    .slice(0, notebook.activeCellIndex)
    .filter(cell => cell.model.type === 'markdown')
    .map(cell => cell.model.sharedModel.getSource());
  return [...above, here].filter(Boolean).join('\n\n');
}

/** The selected text of `editor` ('' when nothing is selected). */
export function selectedText(editor: CodeEditor.IEditor): string {
  const { start, end } = editor.getSelection();
  const a = editor.getOffsetAt(start);
  const b = editor.getOffsetAt(end);
  return editor.model.sharedModel.getSource().slice(Math.min(a, b), Math.max(a, b));
}

export type InsertMode = 'cursor' | 'selection' | 'append';

/** Put `text` into `editor` at the cursor, over the selection, or at the end; the cursor ends after it. */
export function insertText(editor: CodeEditor.IEditor, text: string, mode: InsertMode): void {
  const source = editor.model.sharedModel;
  const length = source.getSource().length;
  let from: number;
  let to: number;
  if (mode === 'append') {
    from = to = length;
  } else {
    const { start, end } = editor.getSelection();
    const a = editor.getOffsetAt(start);
    const b = editor.getOffsetAt(end);
    if (mode === 'selection') {
      from = Math.min(a, b);
      to = Math.max(a, b);
    } else {
      from = to = editor.getOffsetAt(editor.getCursorPosition());
    }
  }
  source.updateSource(from, to, text);
  const position = editor.getPositionAt(from + text.length);
  if (position) {
    editor.setCursorPosition(position);
  }
}
