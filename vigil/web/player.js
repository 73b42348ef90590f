// <vigil-video camera="ID" stream="main|sub">: a camera's live video.
//
// The element holds a <video> and a line saying what is going on (connecting, offline, a
// refusal). Transport (socket.js) and buffering (mse.js) are apart from it.

import { MediaFeed, playableCodecs } from './mse.js';
import { MediaSocket } from './socket.js';

/**
 * @typedef {'idle' | 'connecting' | 'playing' | 'offline' | 'ended' | 'error'} PlayerState
 * @typedef {import('./socket.js').Refusal} Refusal
 * @typedef {import('./socket.js').Tracks} Tracks
 */

export class VideoPlayer extends HTMLElement {
  static observedAttributes = ['camera', 'stream'];

  /** @type {HTMLVideoElement} */ video;
  /** @type {PlayerState} */ state = 'idle';
  /** @type {Refusal | null} why the video stopped, when the server refused or it cannot play */
  error = null;
  /** @type {Tracks | null} what the server said it sends */ tracks = null;
  /** @type {HTMLElement} */ #line;
  /** @type {MediaFeed | null} */ #feed = null;
  /** @type {MediaSocket | null} */ #socket = null;
  /** @type {boolean} */ #restarting = false;

  constructor() {
    super();
    this.video = document.createElement('video');
    // Muted: browsers let a page start muted video by itself.
    this.video.muted = true;
    this.video.autoplay = true;
    this.video.playsInline = true;
    this.#line = document.createElement('p');
    this.#line.setAttribute('role', 'status');
  }

  connectedCallback() {
    this.append(this.video, this.#line);
    this.#start();
  }

  disconnectedCallback() {
    this.#stop();
  }

  attributeChangedCallback() {
    // Attributes set one after another restart once.
    if (!this.isConnected || this.#restarting) return;
    this.#restarting = true;
    queueMicrotask(() => {
      this.#restarting = false;
      this.#start();
    });
  }

  #start() {
    this.#stop();
    const camera = this.getAttribute('camera');
    if (!camera) return;
    const codecs = playableCodecs();
    if (!codecs.length) {
      this.#fail({ code: 'unsupported_browser', message: 'this browser cannot play H.264 or H.265' });
      return;
    }
    const feed = new MediaFeed(this.video, {
      live: true,
      onError: (error) => this.#fail({ code: 'media_error', message: error.message }),
    });
    const query = new URLSearchParams({
      stream: this.getAttribute('stream') || 'main',
      codecs: codecs.join(','),
    });
    this.#feed = feed;
    this.#set('connecting', 'connecting…');
    this.#socket = new MediaSocket(`/api/v1/cameras/${encodeURIComponent(camera)}/live?${query}`, {
      onOpen: () => feed.reset(), // a new session's times start again from 0
      onInit: (tracks) => {
        this.tracks = tracks;
        feed.init(tracks.mime);
      },
      onMedia: (bytes) => {
        feed.append(bytes);
        if (this.state !== 'playing') this.#set('playing', '');
      },
      onStatus: (state, reason) => {
        if (state === 'offline') this.#set('offline', `camera offline: ${reason}`);
        else if (state === 'ended') this.#set('ended', `ended: ${reason}`);
        else if (state === 'connecting') this.#set('connecting', `${reason}; connecting again…`);
      },
      onRefused: (refusal) => this.#fail(refusal),
    });
  }

  #stop() {
    this.#socket?.close();
    this.#feed?.close();
    this.#socket = null;
    this.#feed = null;
    this.error = null;
    this.tracks = null;
    this.#set('idle', '');
  }

  #fail(/** @type {Refusal} */ refusal) {
    this.#socket?.close();
    this.#feed?.close();
    this.error = refusal;
    this.#set('error', refusal.message);
  }

  #set(/** @type {PlayerState} */ state, /** @type {string} */ line) {
    this.state = state;
    this.#line.textContent = line;
    this.#line.hidden = !line;
    this.dispatchEvent(new CustomEvent('statechange', { detail: state }));
  }
}

customElements.define('vigil-video', VideoPlayer);
