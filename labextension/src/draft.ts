/**
 * The state of the drafting panel: which kernel, which model, the decoding
 * options, and the text being generated. The panel (panel.ts) only draws it.
 */

import { ISignal, Signal } from '@lumino/signaling';

import { ChannelError, ChannelRegistry, ChannelState, KernelChannel } from './channel';
import { chooseModel } from './models';
import { IDecoding, IModelInfo, IModelListing, LIMITS } from './protocol';
import { Kernel, KernelMessage } from '@jupyterlab/services';

export type DraftStatus = 'idle' | 'generating' | 'done' | 'stopped' | 'error';

/** The defaults from the settings (settings schema: schema/plugin.json). */
export interface IDraftSettings {
  model: string;
  maxTokens: number;
  temperature: number;
  topP: number | null;
  inlineCompletion: boolean;
  completionTokens: number;
}

export const DEFAULT_SETTINGS: IDraftSettings = {
  model: '',
  maxTokens: LIMITS.generate.max_tokens_default,
  temperature: 0.8,
  topP: null,
  inlineCompletion: true,
  completionTokens: LIMITS.complete.max_tokens_default
};

const EMPTY_LISTING: IModelListing = { models: [], default: null };

export class DraftModel {
  constructor(private _channels: ChannelRegistry) {}

  get changed(): ISignal<this, void> {
    return this._changed;
  }

  // === Kernel ===

  get channel(): KernelChannel | null {
    return this._channel;
  }

  get channelState(): ChannelState | 'no-kernel' {
    return this._channel?.state ?? 'no-kernel';
  }

  /** Follow `kernel` (null: no kernel to draft with). */
  setKernel(kernel: Kernel.IKernelConnection | null): void {
    const channel = kernel && !kernel.isDisposed ? this._channels.get(kernel) : null;
    if (channel === this._channel) {
      return;
    }
    this._channel?.stateChanged.disconnect(this._onChannel, this);
    this._channel?.kernel.iopubMessage.disconnect(this._onIOPub, this);
    this._channel = channel;
    this._listing = EMPTY_LISTING;
    channel?.stateChanged.connect(this._onChannel, this);
    channel?.kernel.iopubMessage.connect(this._onIOPub, this);
    this._changed.emit();
    if (channel?.state === 'ready') {
      void this.refreshModels();
    }
  }

  // === Models ===

  get models(): IModelInfo[] {
    return this._listing.models;
  }

  get modelKey(): string {
    return this._modelKey;
  }

  set modelKey(key: string) {
    this._modelKey = key;
    this._changed.emit();
  }

  /** The model chosen in the picker, else the settings' model, else the kernel's default (`chooseModel`). */
  get model(): IModelInfo | null {
    return chooseModel(this._listing, this._modelKey || this.settings.model);
  }

  async refreshModels(): Promise<void> {
    const channel = this._channel;
    if (!channel || channel.state !== 'ready') {
      return;
    }
    try {
      const listing = await channel.request('list_models', {});
      if (channel !== this._channel) {
        return;
      }
      this._listing = listing;
      this._modelKey = chooseModel(listing, this._modelKey || this.settings.model)?.key ?? '';
    } catch (e) {
      this._error = errorMessage(e);
    }
    this._changed.emit();
  }

  // === Generating ===

  settings: IDraftSettings = { ...DEFAULT_SETTINGS };

  /** The decoding options of the next request (the panel's controls). */
  decoding: IDecoding = {};

  get status(): DraftStatus {
    return this._status;
  }

  /** The generated text so far. */
  get text(): string {
    return this._text;
  }

  /** The last error, as a sentence. */
  get error(): string {
    return this._error;
  }

  get warnings(): string[] {
    return this._warnings;
  }

  get elapsed(): number {
    return this._elapsed;
  }

  /** Emitted for each streamed piece of text (the panel appends it). */
  get chunk(): ISignal<this, string> {
    return this._chunk;
  }

  async generate(prompt: string): Promise<void> {
    const channel = this._channel;
    if (this._status === 'generating') {
      return;
    }
    this._text = '';
    this._error = '';
    this._warnings = [];
    this._status = 'generating'; // at once: a second click must not start a second request
    this._changed.emit();
    if (!channel) {
      this._fail('Open a notebook, or pick a kernel, to draft with.');
      return;
    }
    try {
      await channel.ready(); // a channel opened a moment ago is still saying hello
    } catch {
      this._fail(channel.message);
      return;
    }
    if (!this.model) {
      await this.refreshModels();
    }
    const model = this.model;
    if (!model) {
      this._fail(
        'There is no model in this kernel yet. Train one (jl.train or %llm train) or load one, then refresh.'
      );
      return;
    }
    const abort = new AbortController();
    this._abort = abort;
    const started = performance.now();
    try {
      const reply = await channel.request(
        'generate',
        { model: model.key, prompt, ...this.decoding },
        {
          signal: abort.signal,
          onEvent: (name, payload) => {
            if (name === 'chunk' && abort === this._abort) {
              const text = (payload as { text: string }).text;
              this._text += text;
              this._chunk.emit(text);
            }
          }
        }
      );
      this._text = reply.text;
      this._warnings = reply.warnings.filter(w => typeof w === 'string');
      this._status = reply.cancelled ? 'stopped' : 'done';
    } catch (e) {
      this._status = 'error';
      this._error = errorMessage(e);
    } finally {
      this._elapsed = (performance.now() - started) / 1000;
      this._abort = null;
      this._changed.emit();
    }
  }

  /** Stop the running generation (it keeps the text made so far). */
  stop(): void {
    this._abort?.abort();
  }

  /** Forget the generated text. */
  clear(): void {
    this._text = '';
    this._status = 'idle';
    this._error = '';
    this._changed.emit();
  }

  dispose(): void {
    this.stop();
    this.setKernel(null);
    Signal.clearData(this);
  }

  private _fail(message: string): void {
    this._status = 'error';
    this._error = message;
    this._changed.emit();
  }

  private _onChannel(_: KernelChannel, state: ChannelState): void {
    if (state === 'ready') {
      this._error = '';
      void this.refreshModels();
    } else {
      this._listing = EMPTY_LISTING;
    }
    this._changed.emit();
  }

  private _onIOPub(_: Kernel.IKernelConnection, msg: KernelMessage.IIOPubMessage): void {
    // A cell ran: it may have trained or loaded a model, so list the models again.
    if (
      KernelMessage.isStatusMsg(msg) &&
      msg.content.execution_state === 'idle' &&
      (msg.parent_header as Partial<KernelMessage.IHeader>).msg_type === 'execute_request' &&
      this._status !== 'generating' &&
      this.autoRefresh
    ) {
      window.clearTimeout(this._refreshTimer);
      this._refreshTimer = window.setTimeout(() => void this.refreshModels(), 300);
    }
  }

  /** Whether to list the models again whenever the kernel becomes idle (while the panel shows). */
  autoRefresh = false;

  private _abort: AbortController | null = null;
  private _changed = new Signal<this, void>(this);
  private _channel: KernelChannel | null = null;
  private _chunk = new Signal<this, string>(this);
  private _elapsed = 0;
  private _error = '';
  private _modelKey = '';
  private _listing: IModelListing = EMPTY_LISTING;
  private _refreshTimer = 0;
  private _status: DraftStatus = 'idle';
  private _text = '';
  private _warnings: string[] = [];
}

export function errorMessage(e: unknown): string {
  if (e instanceof ChannelError) {
    return e.message;
  }
  return e instanceof Error ? e.message : String(e);
}
