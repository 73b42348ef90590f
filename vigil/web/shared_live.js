// One WebSocket for every live player of the page (docs/api.md, Live: many cameras on one
// socket), each player in a slot. A browser opens one WebSocket to a host at a time (the
// others wait for its handshake), so 64 tiles with sockets of their own start one after
// another; on one socket they all start at once.
//
// A channel looks to its player as a `MediaSocket` of its own does: `onOpen` when its camera
// is asked for (at first, and again after the socket was lost and opened again), its text
// messages and binaries, `onLost`, and `onRefused` for a refusal of its camera alone. A slot
// let go is used again only once the server says nothing more of it comes (`unwatched`).

import { MediaSocket } from './socket.js';

const SLOTS = 64;
const DRAINING = 'draining'; // let go: the server has yet to say nothing more of it comes

/**
 * @typedef {import('./socket.js').SocketHandlers} SocketHandlers
 * @typedef {{slot: number, camera: string, stream: string, handlers: SocketHandlers}} Channel
 */

class SharedLive {
  /** @type {MediaSocket | null} */ #socket = null;
  /** @type {(Channel | typeof DRAINING | null)[]} */ #slots = Array(SLOTS).fill(null);
  #ready = false; // the socket said `ready`: slots may be watched
  #codecs;

  constructor(/** @type {string} */ codecs) {
    this.#codecs = codecs;
  }

  /** A channel for one camera's stream, or null when every slot is taken. */
  channel(/** @type {string} */ camera, /** @type {string} */ stream, /** @type {SocketHandlers} */ handlers) {
    const slot = this.#slots.indexOf(null);
    if (slot < 0) return null;
    /** @type {Channel} */ const channel = { slot, camera, stream, handlers };
    this.#slots[slot] = channel;
    if (this.#socket === null) this.#connect();
    else if (this.#ready) this.#watch(channel);
    return { close: () => this.#release(channel) };
  }

  #channels() {
    return /** @type {Channel[]} */ (this.#slots.filter((c) => c !== null && c !== DRAINING));
  }

  #connect() {
    const query = new URLSearchParams({ codecs: this.#codecs });
    this.#socket = new MediaSocket(() => `/api/v1/live?${query}`, {
      onOpen: () => {
        this.#ready = false; // until it says `ready`
        this.#slots = this.#slots.map((c) => (c === DRAINING ? null : c)); // a new session
      },
      onText: (message) => this.#read(message),
      onBinary: (bytes) => {
        const channel = this.#slots[new Uint8Array(bytes, 0, 1)[0]];
        if (channel && channel !== DRAINING) channel.handlers.onBinary(new Uint8Array(bytes, 1));
      },
      onLost: (reason) => {
        this.#ready = false;
        for (const channel of this.#channels()) channel.handlers.onLost(reason);
      },
      onRefused: (refusal) => {
        const channels = this.#channels();
        this.#socket = null;
        this.#slots.fill(null);
        for (const channel of channels) channel.handlers.onRefused(refusal);
      },
    });
  }

  #read(/** @type {any} */ message) {
    if (message.type === 'ready') {
      this.#ready = true;
      for (const channel of this.#channels()) this.#watch(channel);
      return;
    }
    if (typeof message.slot !== 'number') return; // a command refused: said in the log below
    const channel = this.#slots[message.slot];
    if (message.type === 'unwatched') {
      if (channel === DRAINING) this.#slots[message.slot] = null;
    } else if (channel && channel !== DRAINING) {
      if (message.type === 'error') {
        this.#slots[message.slot] = null; // the server let the slot go with its refusal
        channel.handlers.onRefused(message);
      } else {
        channel.handlers.onText(message);
      }
    }
  }

  #watch(/** @type {Channel} */ channel) {
    this.#socket?.send({ command: 'watch', slot: channel.slot, camera_id: channel.camera, stream: channel.stream });
    channel.handlers.onOpen();
  }

  #release(/** @type {Channel} */ channel) {
    if (this.#slots[channel.slot] !== channel) return; // refused already
    if (this.#channels().length === 1) {
      // The last one: the socket closes (its session's login is not kept open for nothing).
      this.#socket?.close();
      this.#socket = null;
      this.#ready = false;
      this.#slots.fill(null);
      return;
    }
    this.#slots[channel.slot] = this.#ready ? DRAINING : null;
    if (this.#ready) this.#socket?.send({ command: 'unwatch', slot: channel.slot });
  }
}

/** @type {Map<string, SharedLive>} one per set of codecs (every player asks the same) */
const shared = new Map();

/** A channel on the page's live socket for `codecs`, or null when its slots are all taken. */
export function liveChannel(
  /** @type {{camera: string, stream: string, codecs: string[]}} */ what,
  /** @type {SocketHandlers} */ handlers,
) {
  const codecs = what.codecs.join(',');
  if (!shared.has(codecs)) shared.set(codecs, new SharedLive(codecs));
  return /** @type {SharedLive} */ (shared.get(codecs)).channel(what.camera, what.stream, handlers);
}
