/**
 * The one channel to the kernel: a comm of the target `jupyter_llm`.
 *
 * A `KernelChannel` belongs to one kernel connection. It opens the comm (the
 * `hello` request travels with the comm_open), matches every response, error
 * and event to its request by id, and follows the kernel through restarts:
 *
 * - `connecting`: the comm is open and `hello` has not been answered yet;
 * - `ready`: the kernel answered `hello` with our protocol version;
 * - `not-loaded`: the kernel closed the comm (or never answered): jupyter_llm
 *   is not loaded there. The front end never sends code: the user runs
 *   `%load_ext jupyter_llm`, and the channel connects when the kernel
 *   announces it;
 * - `incompatible`: the kernel speaks another protocol version;
 * - `restarting` / `dead`: the kernel is restarting or gone.
 *
 * When jupyter_llm registers its comm target (`%load_ext jupyter_llm`), the
 * kernel opens a comm of the same name carrying a `ready` event; the channel
 * then connects at once.
 *
 * After a restart the channel says hello again as soon as the kernel
 * connection is back (`connectionStatusChanged`), not when the kernel reports
 * `idle`: JupyterLab ignores the status messages of `kernel_info` requests
 * (the server's `untracked_message_types`), so a restarted kernel can stay
 * `starting` until something else runs in it.
 *
 * A kernel that has not answered `hello` after a while is asked whether it
 * holds the comm (`comm_info`, answered after the comm_open, however long the
 * cells queued before it run); only a kernel that does not gives up the channel.
 */

import { Kernel, KernelMessage } from '@jupyterlab/services';
import { JSONObject, PromiseDelegate, UUID } from '@lumino/coreutils';
import { IDisposable } from '@lumino/disposable';
import { ISignal, Signal } from '@lumino/signaling';

import {
  COMM_TARGET,
  IEventPayloads,
  IRequestPayloads,
  IResponsePayloads,
  PROTOCOL_VERSION,
  RequestName,
  checkEvent,
  checkFields,
  checkResponse,
  parseEnvelope,
  requestEnvelope
} from './protocol';

/** What the channel says while the kernel has no `jupyter_llm` comm target. */
export const NOT_LOADED_MESSAGE = "Run %load_ext jupyter_llm in this notebook's kernel to connect.";

/** How long before the channel asks a kernel that has not answered `hello` whether it holds the comm (ms). */
const HELLO_TIMEOUT = 30_000;

export type ChannelState =
  'connecting' | 'ready' | 'not-loaded' | 'incompatible' | 'restarting' | 'dead';

/** An error answered by the kernel, or a failure of the channel itself. */
export class ChannelError extends Error {
  constructor(
    readonly code: string,
    message: string
  ) {
    super(message);
    this.name = 'ChannelError';
  }
}

export interface IRequestOptions {
  /** Receives the events of the request (e.g. text chunks of `generate`). */
  onEvent?: <E extends keyof IEventPayloads>(name: E, payload: IEventPayloads[E]) => void;
  /** Aborting sends `cancel`; the request then answers with its partial result. */
  signal?: AbortSignal;
}

/** An `insert_cell` event, with its envelope's id (the same on every channel it was sent on). */
export interface IInsertRequest extends Readonly<IEventPayloads['insert_cell']> {
  readonly id: string;
}

interface IPending {
  name: RequestName;
  delegate: PromiseDelegate<any>;
  onEvent?: IRequestOptions['onEvent'];
}

export class KernelChannel implements IDisposable {
  constructor(readonly kernel: Kernel.IKernelConnection) {
    kernel.statusChanged.connect(this._onStatus, this);
    kernel.connectionStatusChanged.connect(this._onConnection, this);
    kernel.disposed.connect(this.dispose, this);
    if (kernel.handleComms) {
      kernel.registerCommTarget(COMM_TARGET, this._onAnnouncement);
    }
    this.connect();
  }

  get state(): ChannelState {
    return this._state;
  }

  /** Why the channel is not ready, as a sentence for the user. */
  get message(): string {
    return this._message;
  }

  /** The kernel's `hello` answer once ready. */
  get info(): IResponsePayloads['hello'] | null {
    return this._info;
  }

  get stateChanged(): ISignal<this, ChannelState> {
    return this._stateChanged;
  }

  /** The kernel asks for a new cell ("Insert below" of a GeneratePanel): an `insert_cell` event. */
  get insertRequested(): ISignal<this, IInsertRequest> {
    return this._insertRequested;
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  /** A promise that resolves when the channel is ready (rejects if it cannot be). */
  async ready(): Promise<void> {
    if (this._state === 'ready') {
      return;
    }
    if (this._state !== 'connecting') {
      throw new ChannelError('not_ready', this._message);
    }
    await this._hello.promise;
  }

  /** Open the comm and say hello (does nothing while already connecting or ready). */
  connect(): void {
    if (this._isDisposed || (this._comm && !this._comm.isDisposed)) {
      return;
    }
    if (!this.kernel.handleComms) {
      this._setState('dead', 'This kernel connection does not handle comms.');
      return;
    }
    const id = UUID.uuid4();
    const hello = new PromiseDelegate<void>();
    hello.promise.catch(() => undefined);
    this._hello = hello;
    this._helloId = id;
    this._setState('connecting', 'Connecting to the kernel…');
    const comm = this.kernel.createComm(COMM_TARGET);
    this._comm = comm;
    comm.onMsg = msg => this._onMessage(msg.content.data);
    comm.onClose = () => this._onCommClosed(comm);
    try {
      comm.open(
        requestEnvelope(id, 'hello', {
          client: '@jupyter-llm/labextension',
          protocol: PROTOCOL_VERSION
        }) as unknown as JSONObject
      );
    } catch (e) {
      this._onCommClosed(comm);
      return;
    }
    this._armHelloTimer();
  }

  /**
   * Send a request; resolves with the response payload, rejects with a
   * `ChannelError` for an error answer or a lost channel.
   */
  async request<N extends RequestName>(
    name: N,
    payload: IRequestPayloads[N],
    options: IRequestOptions = {}
  ): Promise<IResponsePayloads[N]> {
    await this.ready();
    const comm = this._comm;
    if (!comm || comm.isDisposed) {
      throw new ChannelError('not_ready', this._message);
    }
    const id = UUID.uuid4();
    const delegate = new PromiseDelegate<IResponsePayloads[N]>();
    this._pending.set(id, { name, delegate, onEvent: options.onEvent });
    const signal = options.signal;
    const onAbort = () => {
      if (this._pending.has(id)) {
        void this.request('cancel', { id }).catch(() => undefined);
      }
    };
    signal?.addEventListener('abort', onAbort);
    try {
      comm.send(requestEnvelope(id, name, payload) as unknown as JSONObject);
      if (signal?.aborted) {
        onAbort();
      }
      return await delegate.promise;
    } finally {
      signal?.removeEventListener('abort', onAbort);
      this._pending.delete(id);
    }
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    this._failPending('disposed', 'The channel to the kernel was closed.');
    window.clearTimeout(this._helloTimer);
    if (!this.kernel.isDisposed) {
      this.kernel.statusChanged.disconnect(this._onStatus, this);
      this.kernel.connectionStatusChanged.disconnect(this._onConnection, this);
      this.kernel.disposed.disconnect(this.dispose, this);
      if (this.kernel.handleComms) {
        this.kernel.removeCommTarget(COMM_TARGET, this._onAnnouncement);
      }
      if (this._comm && !this._comm.isDisposed) {
        try {
          this._comm.close();
        } catch {
          // the kernel is gone
        }
      }
    }
    this._comm = null;
    Signal.clearData(this);
  }

  // === Incoming ===

  private _onMessage(data: unknown): void {
    const envelope = parseEnvelope(data);
    if (!envelope) {
      console.warn('jupyter_llm: ignored an invalid message from the kernel');
      return;
    }
    if (envelope.id === this._helloId && this._state === 'connecting') {
      this._onHello(envelope.kind, envelope.payload);
      return;
    }
    const pending = this._pending.get(envelope.id);
    if (!pending) {
      if (envelope.kind === 'event' && envelope.name === 'insert_cell') {
        const problem = checkEvent(envelope.name, envelope.payload);
        if (problem === null) {
          this._insertRequested.emit({
            id: envelope.id,
            ...(envelope.payload as unknown as IEventPayloads['insert_cell'])
          });
        } else {
          console.warn(`jupyter_llm: ignored an invalid insert_cell event: ${problem}`);
        }
      }
      return; // else an answer to a request we no longer wait for
    }
    if (envelope.kind === 'event') {
      const problem = checkEvent(envelope.name, envelope.payload);
      if (problem === null) {
        pending.onEvent?.(envelope.name as any, envelope.payload as any);
      } else {
        console.warn(`jupyter_llm: ignored an invalid ${envelope.name} event: ${problem}`);
      }
      return;
    }
    this._pending.delete(envelope.id);
    if (envelope.kind === 'error') {
      const err = checkFields(envelope.payload, { code: 'string', message: 'string' })
        ? new ChannelError('invalid_message', 'The kernel sent an invalid error message.')
        : new ChannelError(envelope.payload.code as string, envelope.payload.message as string);
      pending.delegate.reject(err);
      return;
    }
    if (envelope.kind !== 'response' || envelope.name !== pending.name) {
      pending.delegate.reject(
        new ChannelError(
          'invalid_message',
          `The kernel answered ${pending.name} with ${envelope.kind} ${envelope.name}.`
        )
      );
      return;
    }
    const problem = checkResponse(pending.name, envelope.payload);
    if (problem) {
      pending.delegate.reject(
        new ChannelError(
          'invalid_message',
          `The kernel's answer to ${pending.name} is invalid: ${problem}`
        )
      );
      return;
    }
    pending.delegate.resolve(envelope.payload);
  }

  private _onHello(kind: string, payload: JSONObject): void {
    window.clearTimeout(this._helloTimer);
    const problem = kind === 'response' ? checkResponse('hello', payload) : 'no answer';
    if (problem) {
      this._closeComm();
      this._setState('incompatible', 'The kernel answered hello with an invalid message.');
      this._hello.reject(new ChannelError('incompatible', this._message));
      return;
    }
    const info = payload as unknown as IResponsePayloads['hello'];
    if (info.protocol !== PROTOCOL_VERSION) {
      this._closeComm();
      this._setState(
        'incompatible',
        `The kernel's jupyter_llm ${info.version} speaks protocol ${info.protocol}; this front end speaks ${PROTOCOL_VERSION}. Expected the same jupyter_llm release in the kernel and in JupyterLab.`
      );
      this._hello.reject(new ChannelError('incompatible', this._message));
      return;
    }
    this._info = info;
    this._setState('ready', `jupyter_llm ${info.version}`);
    this._hello.resolve();
  }

  private _onCommClosed(comm: Kernel.IComm): void {
    if (comm !== this._comm) {
      return;
    }
    this._comm = null;
    window.clearTimeout(this._helloTimer);
    this._failPending('closed', 'The kernel closed the jupyter_llm channel.');
    if (this._state === 'connecting' || this._state === 'ready') {
      this._setState('not-loaded', NOT_LOADED_MESSAGE);
      this._hello.reject(new ChannelError('not_loaded', this._message));
    }
  }

  /** The kernel registered the target (it opened a comm with a `ready` event). */
  private _onAnnouncement = (comm: Kernel.IComm, msg: KernelMessage.ICommOpenMsg): void => {
    const envelope = parseEnvelope(msg.content.data);
    if (!envelope || envelope.kind !== 'event' || envelope.name !== 'ready') {
      return;
    }
    if (this._state !== 'ready' && this._state !== 'connecting') {
      this.connect();
    }
  };

  private _onStatus(_: Kernel.IKernelConnection, status: Kernel.Status): void {
    if (status === 'restarting' || status === 'autorestarting') {
      this._comm = null; // the kernel connection drops its comms on restart
      window.clearTimeout(this._helloTimer);
      this._failPending('restarting', 'The kernel restarted.');
      this._hello.reject(new ChannelError('restarting', 'The kernel restarted.'));
      this._setState('restarting', 'The kernel is restarting…');
    } else if (status === 'dead') {
      this._comm = null;
      this._failPending('dead', 'The kernel died.');
      this._setState('dead', 'The kernel is not running.');
    } else if (status === 'idle' && this._state === 'restarting') {
      this.connect(); // (usually the connection is back first: `_onConnection`)
    }
  }

  /**
   * The kernel connection is back after a restart: say hello to the new kernel.
   *
   * (While the connection still waits for the new kernel's `kernel_info`
   * reply, JupyterLab holds the comm_open back and sends it right after.)
   */
  private _onConnection(_: Kernel.IKernelConnection, status: Kernel.ConnectionStatus): void {
    if (status === 'connected' && this._state === 'restarting') {
      this.connect();
    }
  }

  // === Helpers ===

  private _armHelloTimer(): void {
    window.clearTimeout(this._helloTimer);
    const comm = this._comm;
    this._helloTimer = window.setTimeout(() => void this._checkHello(comm), HELLO_TIMEOUT);
  }

  /**
   * `hello` is not answered yet: ask the kernel whether it holds our comm open.
   *
   * The kernel answers `comm_info` from the same queue as our comm_open, so
   * the answer comes only once it has handled the comm_open, however long
   * the cells before it run. (The kernel's status cannot tell: a subshell
   * reports `idle` while a cell is still running.) An open comm keeps the
   * channel waiting; a kernel without it will never answer.
   */
  private async _checkHello(comm: Kernel.IComm | null): Promise<void> {
    if (this._state !== 'connecting' || !comm || comm !== this._comm) {
      return;
    }
    let open = false;
    try {
      const reply = await this.kernel.requestCommInfo({ target_name: COMM_TARGET });
      open = reply.content.status === 'ok' && comm.commId in reply.content.comms;
    } catch {
      open = false; // no comm_info: a kernel that does not speak comms
    }
    if (this._state !== 'connecting' || comm !== this._comm) {
      return; // answered, closed or restarted meanwhile
    }
    if (open) {
      this._armHelloTimer();
      return;
    }
    this._closeComm();
    this._setState('not-loaded', NOT_LOADED_MESSAGE);
    this._hello.reject(new ChannelError('not_loaded', this._message));
  }

  private _closeComm(): void {
    const comm = this._comm;
    this._comm = null;
    if (comm && !comm.isDisposed) {
      try {
        comm.close();
      } catch {
        // already gone
      }
    }
  }

  private _failPending(code: string, message: string): void {
    const pending = [...this._pending.values()];
    this._pending.clear();
    for (const p of pending) {
      p.delegate.reject(new ChannelError(code, message));
    }
  }

  private _setState(state: ChannelState, message: string): void {
    const changed = state !== this._state || message !== this._message;
    this._state = state;
    this._message = message;
    if (state !== 'ready') {
      this._info = null;
    }
    if (changed) {
      this._stateChanged.emit(state);
    }
  }

  private _comm: Kernel.IComm | null = null;
  private _hello = new PromiseDelegate<void>();
  private _helloId = '';
  private _helloTimer = 0;
  private _info: IResponsePayloads['hello'] | null = null;
  private _isDisposed = false;
  private _message = '';
  private _pending = new Map<string, IPending>();
  private _state: ChannelState = 'connecting';
  private _stateChanged = new Signal<this, ChannelState>(this);
  private _insertRequested = new Signal<this, IInsertRequest>(this);
}

/**
 * One channel per kernel connection, shared by the panel, the completer and the commands.
 *
 * A channel opens only when a feature needs it (a kernel without jupyter_llm
 * logs an error for every comm it refuses). `watch` lets a kernel announce
 * that it loaded jupyter_llm before any channel exists.
 */
export class ChannelRegistry implements IDisposable {
  /** Open the channel of `kernel` as soon as the kernel announces jupyter_llm. */
  watch(kernel: Kernel.IKernelConnection): void {
    if (!kernel.handleComms || this._channels.has(kernel) || this._watched.has(kernel)) {
      return;
    }
    this._watched.add(kernel);
    // A channel, once made, registers its own target in place of this one.
    kernel.registerCommTarget(COMM_TARGET, () => void this.get(kernel));
    kernel.disposed.connect(() => this._watched.delete(kernel));
  }

  /** The channel of `kernel` (opened on first use). */
  get(kernel: Kernel.IKernelConnection): KernelChannel {
    let channel = this._channels.get(kernel);
    if (!channel || channel.isDisposed) {
      channel = new KernelChannel(kernel);
      channel.insertRequested.connect((_, request) => this._insertRequested.emit(request));
      this._channels.set(kernel, channel);
      kernel.disposed.connect(() => this._channels.delete(kernel));
    }
    return channel;
  }

  /** An `insert_cell` event of any channel. */
  get insertRequested(): ISignal<this, IInsertRequest> {
    return this._insertRequested;
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  dispose(): void {
    this._isDisposed = true;
    this._channels.forEach(c => c.dispose());
    this._channels.clear();
  }

  private _channels = new Map<Kernel.IKernelConnection, KernelChannel>();
  private _watched = new WeakSet<Kernel.IKernelConnection>();
  private _isDisposed = false;
  private _insertRequested = new Signal<this, IInsertRequest>(this);
}
