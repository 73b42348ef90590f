// <vigil-video camera="ID" stream="main|sub" [time="MS" speed="1"]>: a camera's video, live,
// or recorded from `time` (ms since 1970) on when that is set.
//
// The element holds a <video> and a line saying what is going on (connecting, offline, a
// gap, a refusal). Where pictures come from (sources.js, over socket.js) and how they are
// buffered (mse.js) are apart from it.

import { MediaFeed, playableCodecs } from './mse.js';
import { LiveSource, PlaybackSource } from './sources.js';

/**
 * @typedef {'idle' | import('./sources.js').SourceState} PlayerState
 * @typedef {import('./sources.js').Refusal} Refusal
 * @typedef {import('./sources.js').Tracks} Tracks
 */

export class VideoPlayer extends HTMLElement {
  static observedAttributes = ['camera', 'stream', 'time', 'speed'];

  /** @type {HTMLVideoElement} */ video;
  /** @type {PlayerState} */ state = 'idle';
  /** @type {Refusal | null} why the video stopped, when the server refused or it cannot play */
  error = null;
  /** @type {Tracks | null} what the server said it sends */ tracks = null;
  /** @type {HTMLElement} */ #line;
  /** @type {MediaFeed | null} */ #feed = null;
  /** @type {LiveSource | PlaybackSource | null} */ #source = null;
  /** @type {boolean} */ #restarting = false;

  constructor() {
    super();
    this.video = document.createElement('video');
    // Muted: browsers let a page start muted video by itself.
    this.video.muted = true;
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

  /** The archive time showing (ms since 1970); null when live or not known yet. */
  get timeMs() {
    return this.#source instanceof PlaybackSource
      ? this.#source.timeAt(this.video.currentTime)
      : null;
  }

  /** Recorded video from `timeMs` on (from live too). */
  seek(/** @type {number} */ timeMs) {
    if (this.#source instanceof PlaybackSource) this.#source.seek(timeMs);
    else this.setAttribute('time', String(Math.round(timeMs)));
  }

  /** Recorded video at `speed` (-16 to 16, not 0), from where it is. */
  play(/** @type {number} */ speed = 1) {
    if (this.#source instanceof PlaybackSource) this.#source.play(speed);
  }

  pause() {
    if (this.#source instanceof PlaybackSource) this.#source.pause();
  }

  step(/** @type {1 | -1} */ frames) {
    if (this.#source instanceof PlaybackSource) this.#source.step(frames);
  }

  /** Back to live video. */
  live() {
    this.removeAttribute('time');
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
    const time = this.getAttribute('time');
    const { feed, sink } = videoSink(this.video, time === null, {
      tracks: (tracks) => {
        this.tracks = tracks;
      },
      say: (state, line) => this.#set(state, line),
      fail: (refusal) => this.#fail(refusal),
    });
    this.#feed = feed;
    const stream = this.getAttribute('stream') || 'main';
    this.#set('connecting', 'connecting…');
    this.#source =
      time === null
        ? new LiveSource({ camera, stream, codecs }, sink)
        : new PlaybackSource(
            {
              cameras: [camera],
              timeMs: Number(time),
              speed: Number(this.getAttribute('speed') || 1),
              stream,
              codecs,
            },
            [sink],
          );
  }

  #stop() {
    this.#source?.close();
    this.#feed?.close();
    this.#source = null;
    this.#feed = null;
    this.error = null;
    this.tracks = null;
    this.#set('idle', '');
  }

  #fail(/** @type {Refusal} */ refusal) {
    this.#source?.close();
    this.#feed?.close();
    this.error = refusal;
    this.#set('error', refusal.message);
  }

  #set(/** @type {PlayerState} */ state, /** @type {string} */ line) {
    if (state === this.state && line === this.#line.textContent) return;
    this.state = state;
    this.#line.textContent = line;
    this.#line.hidden = !line;
    this.dispatchEvent(new CustomEvent('statechange', { detail: state }));
  }
}

customElements.define('vigil-video', VideoPlayer);

/**
 * A `<video>` fed by a source: its buffering (a `MediaFeed`) and the `Sink` a source feeds.
 * @param {HTMLVideoElement} video
 * @param {boolean} live
 * @param {{tracks: (tracks: Tracks) => void, say: (state: PlayerState, line: string) => void,
 *          fail: (refusal: Refusal) => void}} report  what the video's owner hears
 */
export function videoSink(video, live, report) {
  const feed = new MediaFeed(video, {
    live,
    onError: (error) => report.fail({ code: 'media_error', message: error.message }),
  });
  /** @type {import('./sources.js').Sink} */
  const sink = {
    reset: () => feed.reset(),
    init: (tracks) => {
      report.tracks(tracks);
      feed.init(tracks.mime);
    },
    media: (bytes) => feed.append(bytes),
    hold: (atS) => feed.hold(atS),
    say: (state, line) => report.say(state, line),
    refused: (refusal) => report.fail(refusal),
  };
  return { feed, sink };
}
