// A media WebSocket of the API (docs/api.md, Live): JSON text messages with a `type` (`init`,
// `status`, `error`) and binary fMP4. A refusal is an `error` message then a close with
// 4000 + the HTTP status, and is final; a connection lost otherwise is opened again, less
// often each time, until media flows again.

const RETRY_FIRST_MS = 1000;
const RETRY_MAX_MS = 15000;
const NORMAL_CLOSURE = 1000;
const APPLICATION_CLOSE = 4000;

/**
 * @typedef {{code: string, message: string, field?: string}} Refusal
 * @typedef {{mime: string, width: number, height: number}} Tracks
 * @typedef {object} SocketHandlers
 * @property {() => void} onOpen  a connection (a first or a new one) opened: media starts anew
 * @property {(tracks: Tracks) => void} onInit  the next binary is an init segment for these
 * @property {(bytes: ArrayBuffer) => void} onMedia
 * @property {(state: string, reason: string) => void} onStatus  `online`, `offline`, `ended`,
 *   or `connecting` while a lost connection is opened again
 * @property {(refusal: Refusal) => void} onRefused  the server said no; nothing more comes
 */

export class MediaSocket {
  /** @type {string} */ #path;
  /** @type {SocketHandlers} */ #handlers;
  /** @type {WebSocket | null} */ #socket = null;
  /** @type {number} */ #retryMs = RETRY_FIRST_MS;
  /** @type {ReturnType<typeof setTimeout> | undefined} */ #retry;
  /** @type {boolean} */ #closed = false;

  /**
   * @param {string} path  the endpoint and its query, e.g. `/api/v1/cameras/ID/live?stream=main`
   * @param {SocketHandlers} handlers
   */
  constructor(path, handlers) {
    this.#path = path;
    this.#handlers = handlers;
    this.#connect();
  }

  close() {
    this.#closed = true;
    clearTimeout(this.#retry);
    this.#socket?.close(NORMAL_CLOSURE);
    this.#socket = null;
  }

  #connect() {
    const url = new URL(this.#path, location.href);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    const socket = new WebSocket(url); // the session cookie goes with the handshake
    socket.binaryType = 'arraybuffer';
    this.#socket = socket;
    /** @type {Refusal | null} */
    let refusal = null;
    socket.addEventListener('open', () => this.#handlers.onOpen());
    socket.addEventListener('message', (event) => {
      if (event.data instanceof ArrayBuffer) {
        this.#retryMs = RETRY_FIRST_MS; // media flows: the connection is a healthy one
        this.#handlers.onMedia(event.data);
        return;
      }
      const message = JSON.parse(event.data);
      if (message.type === 'init') this.#handlers.onInit(message);
      else if (message.type === 'status') this.#handlers.onStatus(message.state, message.reason);
      else if (message.type === 'error') refusal = message;
    });
    socket.addEventListener('close', (event) => {
      if (this.#closed || socket !== this.#socket) return;
      if (refusal || event.code >= APPLICATION_CLOSE) {
        this.#handlers.onRefused(
          refusal ?? { code: event.reason || 'refused', message: `refused (${event.code})` },
        );
      } else if (event.code !== NORMAL_CLOSURE) {
        // A normal closure comes after `ended`; anything else is a connection lost.
        this.#handlers.onStatus('connecting', 'the connection to the server was lost');
        this.#retry = setTimeout(() => this.#connect(), this.#retryMs);
        this.#retryMs = Math.min(this.#retryMs * 2, RETRY_MAX_MS);
      }
    });
  }
}
