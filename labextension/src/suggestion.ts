/**
 * The text of one inline suggestion as it arrives from the kernel: the
 * `chunk` events of a `complete` request, then its answer.
 *
 * The kernel sends whole words only, so every text seen here ends where a
 * word ends. A suggestion ends with the answer, an error, or when the user
 * types on (`end()`); after that nothing changes it.
 */

import { PromiseDelegate } from '@lumino/coreutils';

export class StreamedSuggestion {
  /** The text so far. */
  get text(): string {
    return this._text;
  }

  /** Whether the suggestion is over (answered, failed or given up). */
  get isDone(): boolean {
    return this._done;
  }

  /** Resolves when the suggestion is over. */
  get ended(): Promise<void> {
    return this._ended.promise;
  }

  /** Add the text of a `chunk` event. */
  add(chunk: string): void {
    if (this._done || !chunk) {
      return;
    }
    this._text += chunk;
    this._wake();
  }

  /**
   * End the suggestion; `text` is the answer's (the concatenation of the
   * chunks, which it replaces), or nothing to keep what came so far.
   */
  end(text?: string): void {
    if (this._done) {
      return;
    }
    if (text !== undefined) {
      this._text = text;
    }
    this._done = true;
    this._wake();
    this._ended.resolve();
  }

  /** Resolves at the next change: more text, or the end. */
  async changed(): Promise<void> {
    if (this._done) {
      return;
    }
    await this._next.promise;
  }

  /**
   * The texts as they grow, from the one after `seen` until the end. A reader
   * that is slower than the kernel gets the latest text, not every step.
   */
  async *updates(seen = ''): AsyncGenerator<string> {
    for (;;) {
      if (this._text !== seen) {
        seen = this._text;
        yield seen;
      }
      if (this._done) {
        return;
      }
      await this.changed();
    }
  }

  private _wake(): void {
    const next = this._next;
    this._next = new PromiseDelegate<void>();
    next.resolve();
  }

  private _text = '';
  private _done = false;
  private _next = new PromiseDelegate<void>();
  private _ended = new PromiseDelegate<void>();
}
