/**
 * Inline completion (ghost text) in Markdown cells and text or Markdown files,
 * from the model of the kernel, streamed as the model writes it.
 *
 * JupyterLab's inline completer (>= 4.1) calls `fetch` after the debouncer
 * delay (provider setting, 350 ms by default here). `fetch` sends a `complete`
 * request and answers as soon as the kernel has sent the first words: with an
 * item marked `isIncomplete` that carries a `token`. JupyterLab then reads the
 * rest from `stream(token)`, which yields the growing text as the request's
 * `chunk` events arrive, so the ghost text grows while the model writes. The
 * kernel sends whole words only: the suggestion never ends mid-word.
 *
 * Typing on in the editor ends the suggestion at once: `stream` stops and the
 * request is cancelled in the kernel (`cancel`), so the model stops writing. A
 * new fetch also cancels the previous request. A kernel without jupyter_llm,
 * or without a model, gives no suggestion.
 *
 * A caller that does not stream gets the first words from `fetch` (a whole
 * suggestion, only shorter); with `streaming = false`, `fetch` waits for the
 * whole text and answers with a complete item.
 */

import {
  CompletionHandler,
  IInlineCompletionContext,
  IInlineCompletionItem,
  IInlineCompletionList,
  IInlineCompletionProvider
} from '@jupyterlab/completer';
import { UUID } from '@lumino/coreutils';

import { ChannelRegistry, KernelChannel } from './channel';
import { DraftModel } from './draft';
import { chooseModel } from './models';
import { IModelInfo } from './protocol';
import { StreamedSuggestion } from './suggestion';
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

  /** Answer `fetch` with the first words and stream the rest (else wait for the whole text). */
  streaming = true;

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
    const suggestion = new StreamedSuggestion();
    abort.signal.addEventListener('abort', () => suggestion.end()); // stop showing more at once
    // Typing on in this editor ends the suggestion now, not at the next fetch.
    const source = target.editor?.model.sharedModel;
    const onChange = () => {
      if (source && source.getSource() !== request.text) {
        abort.abort();
      }
    };
    source?.changed.connect(onChange);
    onChange(); // (the user may have typed while the model was chosen)
    void channel
      .request(
        'complete',
        {
          model: model.key,
          text: before,
          max_tokens: this._draft.settings.completionTokens
        },
        {
          signal: abort.signal, // aborting sends `cancel`: the model in the kernel stops
          onEvent: (name, payload) => {
            if (name === 'chunk') {
              suggestion.add((payload as { text: string }).text);
            }
          }
        }
      )
      .then(
        reply => suggestion.end(reply.text),
        () => suggestion.end('') // a suggestion is optional: never bother the writer with errors
      )
      .finally(() => {
        source?.changed.disconnect(onChange);
        if (this._abort === abort) {
          this._abort = null;
        }
      });

    while (!suggestion.isDone && (!this.streaming || !suggestion.text)) {
      await suggestion.changed();
    }
    if (abort.signal.aborted || !suggestion.text) {
      return EMPTY;
    }
    if (suggestion.isDone) {
      return { items: [{ insertText: suggestion.text }] };
    }
    const token = UUID.uuid4();
    const shown = suggestion.text;
    this._streams.set(token, { suggestion, shown });
    void suggestion.ended.then(() => this._streams.delete(token)); // (a caller that only fetches)
    return { items: [{ insertText: shown, isIncomplete: true, token }] };
  }

  /** The rest of the suggestion that `fetch` answered with `token`, as it grows. */
  async *stream(token: string): AsyncGenerator<{ response: IInlineCompletionItem }> {
    const streamed = this._streams.get(token);
    this._streams.delete(token);
    if (!streamed) {
      return;
    }
    const { suggestion, shown } = streamed;
    for await (const text of suggestion.updates(shown)) {
      yield { response: { insertText: text, isIncomplete: !suggestion.isDone } };
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
  /** The suggestions `fetch` answered as incomplete, by token, with the text it answered. */
  private _streams = new Map<string, { suggestion: StreamedSuggestion; shown: string }>();
}
