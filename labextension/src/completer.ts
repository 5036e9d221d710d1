/**
 * Inline completion (ghost text) in Markdown cells and text or Markdown files,
 * from the model of the kernel.
 *
 * JupyterLab's inline completer (>= 4.1) calls `fetch` after the debouncer
 * delay (provider setting, 350 ms by default here). A new fetch cancels the
 * previous request in the kernel, so typing on never waits for the model; a
 * kernel without jupyter_llm, or without a model, gives no suggestion.
 */

import {
  CompletionHandler,
  IInlineCompletionContext,
  IInlineCompletionItem,
  IInlineCompletionList,
  IInlineCompletionProvider
} from '@jupyterlab/completer';

import { ChannelRegistry, KernelChannel } from './channel';
import { DraftModel } from './draft';
import { chooseModel } from './models';
import { IModelInfo } from './protocol';
import { EditorTargets } from './targets';

const EMPTY: IInlineCompletionList = { items: [] };

export class KernelInlineCompleter implements IInlineCompletionProvider {
  readonly name = 'jupyter_llm';
  readonly identifier = '@jupyter-llm/labextension:inline';
  readonly schema = {
    default: { debouncerDelay: 350, timeout: 15000 }
  };

  constructor(
    private _channels: ChannelRegistry,
    private _targets: EditorTargets,
    private _draft: DraftModel
  ) {}

  /** On or off (setting `inlineCompletion`). */
  enabled = true;

  async fetch(
    request: CompletionHandler.IRequest,
    context: IInlineCompletionContext
  ): Promise<IInlineCompletionList<IInlineCompletionItem>> {
    this._abort?.abort(); // the user typed on: the previous suggestion is no longer wanted
    this._abort = null;
    if (!this.enabled) {
      return EMPTY;
    }
    const target = this._targets.describe(context.widget);
    if (!target?.isProse) {
      return EMPTY;
    }
    const kernel = this._targets.kernelFor(context.widget);
    if (!kernel || kernel.isDisposed) {
      return EMPTY;
    }
    const channel = this._channels.get(kernel);
    if (channel.state !== 'ready') {
      return EMPTY;
    }
    const before = request.text.slice(0, request.offset);
    if (!before.trim()) {
      return EMPTY;
    }
    const model = await this._model(channel);
    if (!model) {
      return EMPTY;
    }
    const abort = new AbortController();
    this._abort = abort;
    try {
      const reply = await channel.request(
        'complete',
        {
          model: model.key,
          text: before,
          max_tokens: this._draft.settings.completionTokens
        },
        { signal: abort.signal }
      );
      if (abort.signal.aborted || reply.cancelled || !reply.text) {
        return EMPTY;
      }
      return { items: [{ insertText: reply.text }] };
    } catch {
      return EMPTY; // a suggestion is optional: never bother the writer with errors
    } finally {
      if (this._abort === abort) {
        this._abort = null;
      }
    }
  }

  /** The model of the drafting panel when it drafts with this kernel, else `chooseModel`'s. */
  private async _model(channel: KernelChannel): Promise<IModelInfo | null> {
    if (this._draft.channel === channel && this._draft.model) {
      return this._draft.model;
    }
    return chooseModel(await channel.request('list_models', {}), this._draft.settings.model);
  }

  private _abort: AbortController | null = null;
}
