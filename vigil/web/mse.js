// fMP4 into a <video> through Media Source Extensions.
//
// A SourceBuffer takes one append (or removal) at a time, so what comes is queued and appended
// in order as each append ends. An init segment with the same MIME type as before (another
// resolution, say) goes into the same SourceBuffer; another MIME type means other tracks
// (sound starting or stopping, another codec), which a SourceBuffer cannot switch to once it
// has media, so a new MediaSource takes over. What lies further behind the playing position
// than `keepS` is removed. A live feed jumps to the newest picture when playback falls behind
// it or stops at a gap; a recorded one plays on over holes in its timeline.

const LIVE_TARGET_S = 0.2; // how far behind the newest picture a jump lands
const CATCH_UP_ABOVE_S = 0.3; // further behind than this, live plays a little faster
const CATCH_UP_RATE = 1.25;
const HOLE_S = 0.1; // this close to the end of a range, a later range is played next

/** What the server may send, as `codecs=` names, and a MIME type that tells whether we play it. */
const PROBES = {
  h264: 'video/mp4; codecs="avc1.42E01E"',
  h265: 'video/mp4; codecs="hvc1.1.6.L93.B0"',
};

/** The codecs this browser plays through Media Source Extensions (`codecs=` of the API). */
export function playableCodecs() {
  if (typeof MediaSource === 'undefined') return [];
  return Object.entries(PROBES)
    .filter(([, mime]) => MediaSource.isTypeSupported(mime))
    .map(([name]) => name);
}

/**
 * @typedef {object} FeedOptions
 * @property {boolean} live  follow the newest picture (live view) rather than play what comes
 * @property {number} [keepS]  seconds kept behind the playing position
 * @property {number} [maxLatencyS]  live: how far behind the newest picture playback may fall
 * @property {(error: Error) => void} onError  the feed cannot go on (it has stopped)
 */

export class MediaFeed {
  /** @type {HTMLVideoElement} */ #video;
  /** @type {FeedOptions} */ #options;
  /** @type {number} */ #keepS;
  /** @type {number} */ #maxLatencyS;
  /** @type {MediaSource | null} */ #source = null;
  /** @type {SourceBuffer | null} */ #buffer = null;
  /** @type {string} */ #mime = '';
  /** @type {BufferSource[]} init segments and fragments not appended yet */ #queue = [];
  /** @type {boolean} */ #closed = false;
  /** @type {number | null} recorded: the media time held on screen, paused (see `hold`) */
  #holdS = null;

  /**
   * @param {HTMLVideoElement} video
   * @param {FeedOptions} options
   */
  constructor(video, options) {
    this.#video = video;
    this.#video.autoplay = true; // plays as soon as it can (unless held)
    this.#options = options;
    this.#keepS = options.keepS ?? 30;
    this.#maxLatencyS = options.maxLatencyS ?? 1;
  }

  /** The MIME type of the init segment that comes next (`init` message of the API). */
  init(/** @type {string} */ mime) {
    if (this.#closed || (mime === this.#mime && this.#source)) return;
    if (!MediaSource.isTypeSupported(mime)) {
      this.#fail(new Error(`this browser cannot play ${mime}`));
      return;
    }
    this.#mime = mime;
    this.#queue = []; // what was left for the old tracks is not played
    this.#open(mime);
  }

  /** An init segment or a fragment, in the order received. */
  append(/** @type {BufferSource} */ bytes) {
    if (this.#closed || !this.#source) return;
    this.#queue.push(bytes);
    this.#pump();
  }

  /**
   * Recorded: holds the video paused on the picture at media time `atS` (a paused clock, a
   * step), or plays on (null). The hold outlasts a new timeline, whose media arrive after it.
   *
   * While held, the stream is ended each time what is queued has been appended (the next
   * append opens it again, as MSE says): Chromium plays a SourceBuffer only with enough ahead,
   * and with sound it does not even finish a seek to the last picture it holds, waiting for
   * sound beyond; an ended stream has nothing beyond.
   */
  hold(/** @type {number | null} */ atS) {
    this.#holdS = atS;
    const video = this.#video;
    video.autoplay = atS === null; // a new MediaSource does not start by itself while held
    if (atS !== null) {
      video.pause();
      this.#pump();
    } else if (video.paused && video.src) {
      // An AbortError only says a new timeline replaced the media meanwhile.
      video.play().catch((error) => {
        if (asError(error).name !== 'AbortError') this.#fail(asError(error));
      });
    }
  }

  /** Drops what is buffered and queued, for a new start (a seek): the next init opens anew. */
  reset() {
    this.#detach();
    this.#mime = '';
    this.#queue = [];
  }

  close() {
    this.#closed = true;
    this.reset();
  }

  #open(/** @type {string} */ mime) {
    this.#detach();
    const source = new MediaSource();
    const url = URL.createObjectURL(source);
    source.addEventListener(
      'sourceopen',
      () => {
        URL.revokeObjectURL(url);
        if (source !== this.#source) return; // replaced meanwhile
        try {
          const buffer = source.addSourceBuffer(mime);
          buffer.mode = 'segments'; // the fragments carry their times
          buffer.addEventListener('updateend', () => this.#pump());
          this.#buffer = buffer;
        } catch (error) {
          this.#fail(asError(error));
          return;
        }
        this.#pump();
      },
      { once: true },
    );
    this.#source = source;
    this.#video.src = url;
  }

  #detach() {
    this.#source = null;
    this.#buffer = null;
    if (this.#video.src) {
      this.#video.removeAttribute('src');
      this.#video.load(); // lets go of the old MediaSource
    }
  }

  /** Appends or removes the next thing when the SourceBuffer is free. */
  #pump() {
    const buffer = this.#buffer;
    if (this.#closed || !buffer || buffer.updating) return;
    if (this.#options.live) this.#followLiveEdge();
    else if (this.#holdS !== null) this.#showHeld();
    else this.#skipHoles();
    if (this.#trim(buffer, this.#keepS)) return; // `updateend` pumps again
    const next = this.#queue.shift();
    if (!next) {
      if (this.#holdS !== null && this.#source?.readyState === 'open') this.#source.endOfStream();
      return;
    }
    try {
      buffer.appendBuffer(next);
    } catch (error) {
      if (asError(error).name === 'QuotaExceededError' && this.#trim(buffer, 2)) {
        this.#queue.unshift(next); // room is being made: append it after that
        return;
      }
      this.#fail(asError(error));
    }
  }

  /** Once more than `keepS` lies behind the playing position, removes all but `keepS / 2`
   * of it (in one go rather than a sliver before every append); true if it began. */
  #trim(/** @type {SourceBuffer} */ buffer, /** @type {number} */ keepS) {
    const ranges = buffer.buffered;
    const now = this.#video.currentTime;
    if (!ranges.length || ranges.start(0) >= now - keepS) return false;
    buffer.remove(0, now - keepS / 2);
    return true;
  }

  /** Live: plays from near the newest picture when too far behind it or stopped at a gap
   * (a camera back online, a viewer the server skipped to a keyframe), and catches up a
   * little faster when slightly behind (a first GOP sent at once, a network hiccup). */
  #followLiveEdge() {
    const ranges = this.#video.buffered;
    if (!ranges.length) return;
    const last = ranges.length - 1;
    const start = ranges.start(last);
    const end = ranges.end(last);
    const now = this.#video.currentTime;
    const behindS = end - now;
    if (now < start || behindS < 0 || behindS > this.#maxLatencyS) {
      this.#video.currentTime = Math.max(start, end - LIVE_TARGET_S);
    }
    this.#video.playbackRate = behindS > CATCH_UP_ABOVE_S ? CATCH_UP_RATE : 1;
  }

  /** Recorded, held: shows the picture held once it is there. */
  #showHeld() {
    const ranges = this.#video.buffered;
    const atS = this.#holdS ?? 0;
    for (let n = 0; n < ranges.length; n += 1) {
      if (ranges.start(n) <= atS && atS < ranges.end(n)) {
        if (Math.abs(this.#video.currentTime - atS) > 0.001) this.#video.currentTime = atS;
        return;
      }
    }
  }

  /** Recorded: plays on from the next buffered range when stopped before one (the start of a
   * timeline, a camera whose gap ended while the others of its clock played on). */
  #skipHoles() {
    const ranges = this.#video.buffered;
    const now = this.#video.currentTime;
    for (let n = 0; n < ranges.length; n += 1) {
      if (now < ranges.start(n)) {
        this.#video.currentTime = ranges.start(n);
        return;
      }
      if (now < ranges.end(n) - HOLE_S) return; // within this range: plays on
    }
  }

  #fail(/** @type {Error} */ error) {
    this.close();
    this.#options.onError(error);
  }
}

/** @returns {Error} */
function asError(/** @type {unknown} */ error) {
  return error instanceof Error ? error : new Error(String(error));
}
