// A media WebSocket of the API (docs/api.md, Live and Playback): JSON text messages with a
// `type`, and binary fMP4. A refusal is an `error` message then a close with 4000 + the HTTP
// status, and is final; a connection lost otherwise is opened again, less often each time,
// until media flows again.

const RETRY_FIRST_MS = 1000;
const RETRY_MAX_MS = 15000;
const NORMAL_CLOSURE = 1000;
const APPLICATION_CLOSE = 4000;

/**
 * @typedef {{code: string, message: string, field?: string}} Refusal
 * @typedef {object} SocketHandlers
 * @property {() => void} onOpen  a connection (a first or a new one) opened: a new session
 * @property {(message: any) => void} onText  a JSON message (an `error` too: for playback, a
 *   command refused while the session goes on)
 * @property {(bytes: ArrayBuffer | Uint8Array) => void} onBinary  (a channel of the shared
 *   live socket gets a view of its part)
 * @property {(reason: string) => void} onLost  the connection was lost; it is opened again
 * @property {(refusal: Refusal) => void} onRefused  the server said no; nothing more comes
 */

export class MediaSocket {
  /** @type {() => string} */ #path;
  /** @type {SocketHandlers} */ #handlers;
  /** @type {WebSocket | null} */ #socket = null;
  /** @type {number} */ #retryMs = RETRY_FIRST_MS;
  /** @type {ReturnType<typeof setTimeout> | undefined} */ #retry;
  /** @type {boolean} */ #closed = false;

  /**
   * @param {() => string} path  the endpoint and its query (asked again at each connection,
   *   so that one opened again can start where the last one was)
   * @param {SocketHandlers} handlers
   */
  constructor(path, handlers) {
    this.#path = path;
    this.#handlers = handlers;
    this.#connect();
  }

  /** Sends a command (JSON) if connected; a command while connecting again is dropped. */
  send(/** @type {object} */ command) {
    if (this.#socket?.readyState === WebSocket.OPEN) this.#socket.send(JSON.stringify(command));
  }

  close() {
    this.#closed = true;
    clearTimeout(this.#retry);
    this.#socket?.close(NORMAL_CLOSURE);
    this.#socket = null;
  }

  #connect() {
    const url = new URL(this.#path(), location.href);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    const socket = new WebSocket(url); // the session cookie goes with the handshake
    socket.binaryType = 'arraybuffer';
    this.#socket = socket;
    /** @type {Refusal | null} */
    let lastError = null;
    socket.addEventListener('open', () => this.#handlers.onOpen());
    socket.addEventListener('message', (event) => {
      if (event.data instanceof ArrayBuffer) {
        this.#retryMs = RETRY_FIRST_MS; // media flows: the connection is a healthy one
        this.#handlers.onBinary(event.data);
        return;
      }
      const message = JSON.parse(event.data);
      if (message.type === 'error') lastError = message;
      this.#handlers.onText(message);
    });
    socket.addEventListener('close', (event) => {
      if (this.#closed || socket !== this.#socket) return;
      if (event.code >= APPLICATION_CLOSE) {
        this.#handlers.onRefused(
          lastError ?? { code: event.reason || 'refused', message: `refused (${event.code})` },
        );
      } else if (event.code !== NORMAL_CLOSURE) {
        // A normal closure comes after the end is said; anything else is a connection lost.
        this.#handlers.onLost('the connection to the server was lost');
        this.#retry = setTimeout(() => this.#connect(), this.#retryMs);
        this.#retryMs = Math.min(this.#retryMs * 2, RETRY_MAX_MS);
      }
    });
  }
}
