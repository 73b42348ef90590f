// Where a player's pictures come from: a camera live, or the archive (one clock for one
// camera or many). Each source feeds one `Sink` per camera.

import { liveChannel } from './shared_live.js';
import { MediaSocket } from './socket.js';

/**
 * @typedef {import('./socket.js').Refusal} Refusal
 * @typedef {{mime: string, width: number, height: number}} Tracks
 * @typedef {'connecting' | 'playing' | 'paused' | 'offline' | 'ended' | 'error'} SourceState
 * @typedef {object} Sink  one camera's picture, as a source feeds it
 * @property {() => void} reset  a new timeline: what is buffered goes
 * @property {(tracks: Tracks) => void} init  the next media is an init segment for these
 * @property {(bytes: BufferSource) => void} media  an init segment or a fragment
 * @property {(atS: number | null) => void} hold  recorded: hold the picture at media time
 *   `atS` (paused, a step), or play on (null)
 * @property {(state: SourceState, line: string) => void} say  what is going on, for people
 * @property {(refusal: Refusal) => void} refused  the server said no: the source has stopped
 */

/** A camera live (docs/api.md, Live): a channel of the page's live socket, or a socket of its
 * own when that one's slots are all taken. */
export class LiveSource {
  /** @type {{close: () => void}} */ #socket;

  /**
   * @param {{camera: string, stream: string, codecs: string[]}} what
   * @param {Sink} sink
   */
  constructor({ camera, stream, codecs }, sink) {
    const query = new URLSearchParams({ stream, codecs: codecs.join(',') });
    const path = `/api/v1/cameras/${encodeURIComponent(camera)}/live?${query}`;
    let flowing = false;
    /** @type {import('./socket.js').SocketHandlers} */ const handlers = {
      onOpen: () => {
        sink.reset(); // a new session's times start again from 0
        sink.say('connecting', 'connecting…');
      },
      onText: (message) => {
        if (message.type === 'init') sink.init(message);
        if (message.type !== 'status') return;
        flowing = false;
        if (message.state === 'offline') sink.say('offline', `camera offline: ${message.reason}`);
        if (message.state === 'ended') sink.say('ended', `ended: ${message.reason}`);
      },
      onBinary: (bytes) => {
        sink.media(bytes);
        if (!flowing) sink.say('playing', '');
        flowing = true;
      },
      onLost: (reason) => {
        flowing = false;
        sink.say('connecting', `${reason}; connecting again…`);
      },
      onRefused: (refusal) => sink.refused(refusal),
    };
    this.#socket = liveChannel({ camera, stream, codecs }, handlers) ?? new MediaSocket(() => path, handlers);
  }

  close() {
    this.#socket.close();
  }
}

/**
 * @typedef {{time_ms: number, media_ms: number, speed: number, playing: boolean}} ClockState
 */

/** Recorded video of one camera or many on one clock (docs/api.md, Playback). */
export class PlaybackSource {
  /** @type {MediaSocket} */ #socket;
  /** @type {Sink[]} */ #sinks;
  /** @type {ClockState | null} the last `state`: which archive time shows at which media time */
  clock = null;
  /** @type {number} */ #speed;
  /** @type {number} where a session opened again starts: the archive time last known */
  #resumeMs;
  /** @type {({state: SourceState, line: string} | null)[]} per camera, what it says until
   * its pictures come again (a gap) or a new timeline starts (the end) */
  #notes;

  /**
   * @param {{cameras: string[], timeMs: number, speed: number, stream: string,
   *   codecs: string[]}} what
   * @param {Sink[]} sinks  one per camera, in the same order
   */
  constructor({ cameras, timeMs, speed, stream, codecs }, sinks) {
    this.#sinks = sinks;
    this.#speed = speed;
    this.#resumeMs = timeMs;
    this.#notes = sinks.map(() => null);
    const path = () => {
      const query = new URLSearchParams({
        cameras: cameras.join(','),
        time_ms: String(Math.round(this.#resumeMs)),
        speed: String(this.#speed),
        stream,
        codecs: codecs.join(','),
      });
      return `/api/v1/playback?${query}`;
    };
    const all = (/** @type {(sink: Sink) => void} */ each) => sinks.forEach(each);
    this.#socket = new MediaSocket(path, {
      onOpen: () => all((sink) => sink.reset()),
      onText: (message) => this.#read(message),
      onBinary: (bytes) => this.#media(new Uint8Array(bytes, 0, 1)[0], new Uint8Array(bytes, 1)),
      onLost: (reason) => all((sink) => sink.say('connecting', `${reason}; connecting again…`)),
      onRefused: (refusal) => all((sink) => sink.refused(refusal)),
    });
  }

  /** Shows the archive from `timeMs` (ms since 1970) on. */
  seek(/** @type {number} */ timeMs) {
    this.clock = null; // unknown until the new timeline's first `state`
    this.#resumeMs = timeMs;
    this.#socket.send({ command: 'seek', time_ms: Math.round(timeMs) });
  }

  /** Plays at `speed` (-16 to 16, not 0; negative: backwards). */
  play(/** @type {number} */ speed = 1) {
    this.#speed = speed;
    this.#socket.send({ command: 'play', speed });
  }

  pause() {
    this.#socket.send({ command: 'pause' });
  }

  /** Shows the next picture (1) or the one before (-1), paused. */
  step(/** @type {1 | -1} */ frames) {
    this.#socket.send({ command: 'step', frames });
  }

  /** The archive time (ms since 1970) showing at media time `mediaS` (a video's
   * `currentTime`), or null before the server has said. */
  timeAt(/** @type {number} */ mediaS) {
    const clock = this.clock;
    if (!clock) return null;
    return clock.time_ms + (mediaS * 1000 - clock.media_ms) * clock.speed;
  }

  close() {
    this.#socket.close();
  }

  #read(/** @type {any} */ message) {
    const camera = message.camera;
    const sink = this.#sinks[camera];
    if (message.type === 'init' && sink) {
      if (message.reset) {
        this.#notes[camera] = null;
        sink.reset();
      }
      sink.init(message);
    } else if (message.type === 'gap' && sink) {
      const seconds = Math.round(message.length_ms / 1000);
      const line = `nothing recorded for ${seconds} s from ${at(message.from_ms)}`;
      this.#note(camera, { state: this.#playing(), line });
    } else if (message.type === 'end' && sink) {
      this.#note(camera, { state: 'ended', line: `no recordings after ${at(message.time_ms)}` });
    } else if (message.type === 'state') {
      this.clock = message;
      this.#speed = message.speed;
      this.#resumeMs = message.time_ms;
      // A browser plays a SourceBuffer only with enough ahead: a paused clock's picture (or a
      // step's) is shown by holding the video at its media time.
      const holdS = message.playing ? null : message.media_ms / 1000;
      this.#sinks.forEach((each, n) => {
        const note = this.#notes[n];
        each.hold(holdS);
        each.say(note?.state === 'ended' ? 'ended' : this.#playing(), note?.line ?? '');
      });
    } else if (message.type === 'error') {
      // A command refused: the session goes on as it was.
      for (const each of this.#sinks) each.say(this.#playing(), message.message);
    }
  }

  #media(/** @type {number} */ camera, /** @type {Uint8Array} */ bytes) {
    const sink = this.#sinks[camera];
    if (!sink) return;
    sink.media(bytes);
    const note = this.#notes[camera];
    if (note && note.state !== 'ended') this.#note(camera, null); // out of its gap
  }

  #note(/** @type {number} */ camera, /** @type {{state: SourceState, line: string} | null} */ note) {
    this.#notes[camera] = note;
    this.#sinks[camera].say(note?.state ?? this.#playing(), note?.line ?? '');
  }

  /** @returns {SourceState} */
  #playing() {
    return this.clock?.playing === false ? 'paused' : 'playing';
  }
}

function at(/** @type {number} */ timeMs) {
  return new Date(timeMs).toLocaleTimeString();
}
