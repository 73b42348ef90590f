// The playback view: the cameras of this window's live layout, recorded, on one clock (one
// playback session: every picture of the same moment shows together) or each on its own
// (a session each; the controls then act on the selected camera), with a timeline per
// camera (what is recorded, where the clock is; a click or a drag goes there, a picture of
// the time under the pointer shows above it), speeds, steps, zoom from 30 days to a minute,
// and export of a marked range: the selected camera's as a download, or every camera's as
// a job with its progress.

import { ApiError, call } from './api.js';
import { attempt, byId, h, say } from './dom.js';
import { playableCodecs } from './mse.js';
import { videoSink } from './player.js';
import { PlaybackSource } from './sources.js';

// The timeline's spans, narrowest first (+ and - step through them).
const SPANS_MS = [60e3, 5 * 60e3, 15 * 60e3, 3600e3, 6 * 3600e3, 86_400e3, 7 * 86_400e3, 30 * 86_400e3];
const MAX_INTERVALS_MS = 7 * 86_400e3; // longer: time recorded per bucket (docs/api.md)
const BUCKETS = 400;
const TIMELINE_EVERY_MS = 10_000;
const START_BEFORE_MS = 60_000; // opened without a time: this long ago
const THUMB_REST_MS = 120; // the pointer rests this long over the timeline: its picture is asked for
const SCRUB_EVERY_MS = 300; // dragging along the timeline seeks at most this often
const JOB_EVERY_MS = 500; // an export job's progress, asked again
const ON_DISK_AFTER_MS = 3000; // the newest pictures are not in a file yet (no thumbnail)
// In sync, each video element plays its own buffer: one that strays from the others (it
// started later, or its decoder was slower) is brought back, by its rate when it is near
// and by a jump when it is far. Within ALIGNED_S of the others it plays at 1x.
const ALIGNED_S = 0.015;
const JUMP_ABOVE_S = 0.5;
const RATE_PER_S = 2; // the rate's change per second astray: 0.1 s behind plays at 1.2x
const MAX_NUDGE = 0.25;

/** @typedef {{id: string, name: string}} Camera */

export class PlaybackView {
  /** @type {Camera[]} */ #cameras = [];
  /** @type {PlaybackSource[]} one for every camera in sync, else one per camera */
  #sources = [];
  #sync = true;
  /** @type {{video: HTMLVideoElement, close: () => void}[]} */ #tiles = [];
  #selected = 0;
  #spanIndex = 3; // an hour
  /** @type {number | null} */ #markIn = null;
  /** @type {number | null} */ #markOut = null;
  /** @type {ReturnType<typeof setInterval> | undefined} */ #timer;
  #windowFrom = 0;

  constructor() {
    const speed = /** @type {HTMLSelectElement} */ (byId('pb-speed'));
    const when = /** @type {HTMLInputElement} */ (byId('pb-when'));
    /** @type {Record<string, () => void>} */
    const buttons = {
      'pb-go': () => when.value && this.seek(new Date(when.value).getTime()), // local time
      'pb-play': () => this.play(Number(speed.value)),
      'pb-pause': () => this.pause(),
      'pb-back': () => this.step(-1),
      'pb-forward': () => this.step(1),
      'pb-zoom-in': () => this.zoom(-1),
      'pb-zoom-out': () => this.zoom(1),
      'pb-mark-in': () => this.mark('in'),
      'pb-mark-out': () => this.mark('out'),
      'pb-export-job': () => this.#exportJob(),
    };
    for (const [id, action] of Object.entries(buttons)) byId(id).addEventListener('click', action);
    byId('pb-sync').addEventListener('change', (event) => {
      this.#sync = /** @type {HTMLInputElement} */ (event.target).checked;
      this.start(this.#cameras, this.timeMs); // each tile's session made again, from here
    });
  }

  /** Start on `cameras` (at most 64) from `timeMs`, playing. */
  start(/** @type {Camera[]} */ cameras, /** @type {number | null} */ timeMs) {
    this.stop();
    this.#cameras = cameras;
    byId('pb-empty').hidden = cameras.length > 0;
    if (!cameras.length) return;
    const side = Math.ceil(Math.sqrt(cameras.length));
    const grid = byId('pb-grid');
    grid.style.setProperty('--side', String(side));
    grid.style.setProperty('--rows', String(Math.ceil(cameras.length / side)));
    const sinks = [];
    this.#tiles = [];
    const tiles = cameras.map((camera, n) => {
      const video = /** @type {HTMLVideoElement} */ (h('video', { muted: true, playsinline: true }));
      video.muted = true;
      const line = h('p', { role: 'status', hidden: true });
      const { feed, sink } = videoSink(video, false, {
        tracks: () => {},
        say: (_state, text) => {
          line.textContent = text;
          line.hidden = !text;
        },
        fail: (refusal) => {
          line.textContent = refusal.message;
          line.hidden = false;
        },
      });
      sinks.push(sink);
      this.#tiles.push({ video, close: () => feed.close() });
      return h('div', { class: `tile${n === this.#selected ? ' selected' : ''}`, 'data-camera': camera.id,
                        onclick: () => this.#select(n) },
        video, line, h('div', { class: 'caption' }, h('span', { class: 'name' }, camera.name)));
    });
    grid.replaceChildren(...tiles);
    this.#selected = Math.min(this.#selected, cameras.length - 1);
    const open = (/** @type {Camera[]} */ some, /** @type {typeof sinks} */ theirs) => new PlaybackSource({
      cameras: some.map((c) => c.id),
      timeMs: timeMs ?? Date.now() - START_BEFORE_MS,
      speed: 1,
      stream: cameras.length > 4 ? 'sub' : 'main',
      codecs: playableCodecs(),
    }, theirs);
    this.#sources = this.#sync ? [open(cameras, sinks)] : cameras.map((camera, n) => open([camera], [sinks[n]]));
    this.#windowFrom = (timeMs ?? Date.now() - START_BEFORE_MS) - SPANS_MS[this.#spanIndex] / 2;
    document.addEventListener('keydown', this.#onKey);
    this.#timer = setInterval(() => this.#tick(), 250);
    this.#drawTimeline();
  }

  stop() {
    clearInterval(this.#timer);
    clearInterval(this.#jobTimer);
    document.removeEventListener('keydown', this.#onKey);
    for (const source of this.#sources) source.close();
    this.#sources = [];
    for (const tile of this.#tiles) tile.close();
    this.#tiles = [];
    byId('pb-grid').replaceChildren();
  }

  /** The archive time showing in the selected tile (ms since 1970), or null before the
   * server said. */
  get timeMs() {
    const tile = this.#tiles[this.#selected];
    const source = this.#controlled()[0];
    return tile && source ? source.timeAt(tile.video.currentTime) : null;
  }

  /** The sessions the controls act on: the one of every camera, or the selected one's. */
  #controlled() {
    return this.#sync ? this.#sources : this.#sources.slice(this.#selected, this.#selected + 1);
  }

  seek(/** @type {number} */ timeMs, center = true) {
    if (timeMs > Date.now()) timeMs = Date.now() - 1000; // nothing is recorded ahead
    for (const source of this.#controlled()) source.seek(timeMs);
    if (center) this.#center(timeMs);
  }

  play(/** @type {number} */ speed) {
    for (const source of this.#controlled()) source.play(speed);
  }

  pause() {
    for (const source of this.#controlled()) source.pause();
  }

  step(/** @type {1 | -1} */ frames) {
    for (const source of this.#controlled()) source.step(frames);
  }

  zoom(/** @type {1 | -1} */ wider) {
    this.#spanIndex = Math.max(0, Math.min(SPANS_MS.length - 1, this.#spanIndex + wider));
    this.#center(this.timeMs ?? this.#windowFrom + SPANS_MS[this.#spanIndex] / 2);
  }

  mark(/** @type {'in' | 'out'} */ which) {
    const now = this.timeMs;
    if (now === null) return;
    if (which === 'in') this.#markIn = Math.round(now);
    else this.#markOut = Math.round(now);
    this.#exportLink();
    this.#drawTimeline();
  }

  #select(/** @type {number} */ n) {
    this.#selected = n;
    byId('pb-grid').querySelectorAll('.tile').forEach((tile, i) => tile.classList.toggle('selected', i === n));
    this.#exportLink();
  }

  /** The export of the marked range of the selected camera: a link to the file. */
  #exportLink() {
    const link = /** @type {HTMLAnchorElement} */ (byId('pb-export'));
    const camera = this.#cameras[this.#selected];
    const ready = camera && this.#markIn !== null && this.#markOut !== null && this.#markOut > this.#markIn;
    link.hidden = !ready;
    if (!ready) return;
    const query = new URLSearchParams({ from_ms: String(this.#markIn), to_ms: String(this.#markOut) });
    link.href = `/api/v1/cameras/${encodeURIComponent(camera.id)}/export?${query}`;
    link.download = `${camera.name} ${new Date(/** @type {number} */ (this.#markIn)).toISOString()}.mp4`;
    link.textContent = `Export ${camera.name}, ${Math.round((/** @type {number} */ (this.#markOut) - /** @type {number} */ (this.#markIn)) / 1000)} s`;
    byId('pb-export-job').hidden = this.#cameras.length < 2;
  }

  /** @type {ReturnType<typeof setInterval> | undefined} */ #jobTimer;

  /** Every camera's clip of the marked range, made by the server as a job: its progress,
   * then a link to the file (a zip of one MP4 per camera). */
  async #exportJob() {
    if (this.#markIn === null || this.#markOut === null) return;
    const body = { cameras: this.#cameras.map((c) => c.id), from_ms: this.#markIn, to_ms: this.#markOut };
    const shown = byId('pb-job');
    const bar = /** @type {HTMLProgressElement} */ (shown.querySelector('progress'));
    const state = /** @type {HTMLElement} */ (shown.querySelector('.state'));
    const download = /** @type {HTMLAnchorElement} */ (shown.querySelector('a.download'));
    clearInterval(this.#jobTimer);
    download.hidden = true;
    /** @type {any} */ let job = null;
    if (!(await attempt(async () => { job = await call('POST', '/exports', body); }))) return;
    shown.hidden = false;
    const follow = async () => {
      try {
        job = await call('GET', `/exports/${job.id}`);
      } catch (error) {
        if (!(error instanceof ApiError)) throw error;
        clearInterval(this.#jobTimer); // the job is gone (expired, the server restarted)
        state.textContent = error.message;
        return;
      }
      bar.value = job.percent;
      state.textContent = job.state === 'running' && job.eta_s !== null ? `${job.percent} %, ${job.eta_s} s left`
        : job.state === 'failed' ? `failed: ${job.error}` : job.state;
      shown.dataset.state = job.state;
      if (job.state === 'done') {
        download.href = `/api/v1/exports/${job.id}/file`;
        download.download = job.file_name;
        download.hidden = false;
      }
      if (job.state === 'done' || job.state === 'failed') clearInterval(this.#jobTimer);
    };
    this.#jobTimer = setInterval(follow, JOB_EVERY_MS);
    await follow();
  }

  #center(/** @type {number} */ timeMs) {
    this.#windowFrom = timeMs - SPANS_MS[this.#spanIndex] / 2;
    this.#drawTimeline();
  }

  #tick() {
    const now = this.timeMs;
    const clock = byId('pb-clock');
    clock.textContent = now === null ? '…' : new Date(now).toLocaleString();
    clock.dataset.timeMs = now === null ? '' : String(Math.round(now));
    const span = SPANS_MS[this.#spanIndex];
    // The clock leaving the window moves it; the recorded spans are asked again now and then.
    if (now !== null && (now < this.#windowFrom || now > this.#windowFrom + span)) this.#center(now);
    else this.#placeCursor(now);
    if (Date.now() - this.#drawnAt > TIMELINE_EVERY_MS) this.#drawTimeline();
    if (this.#sync) this.#align();
  }

  /** The videos of one session show the same media time: each is brought to the median
   * of those playing. */
  #align() {
    const playing = this.#tiles.map((t) => t.video).filter((v) => !v.paused && v.readyState >= 2 && v.currentTime > 0);
    if (playing.length < 2 || this.#sources[0]?.clock?.playing === false) return;
    const times = playing.map((v) => v.currentTime).sort((a, b) => a - b);
    const median = times[Math.floor(times.length / 2)];
    for (const video of playing) {
      const astray = video.currentTime - median;
      if (Math.abs(astray) > JUMP_ABOVE_S) {
        video.currentTime = median;
        video.playbackRate = 1;
      } else if (Math.abs(astray) > ALIGNED_S) {
        video.playbackRate = 1 - Math.max(-MAX_NUDGE, Math.min(MAX_NUDGE, astray * RATE_PER_S));
      } else {
        video.playbackRate = 1;
      }
    }
  }

  #drawnAt = 0;

  async #drawTimeline() {
    this.#drawnAt = Date.now();
    const span = SPANS_MS[this.#spanIndex];
    const from = Math.round(this.#windowFrom);
    const to = Math.round(Math.min(from + span, Date.now()));
    const timeline = byId('timeline');
    timeline.dataset.fromMs = String(from);
    timeline.dataset.toMs = String(from + span);
    if (!this.#cameras.length || to <= from) return;
    const bucketMs = span > MAX_INTERVALS_MS ? Math.ceil(span / BUCKETS) : null;
    const query = new URLSearchParams({
      cameras: this.#cameras.map((c) => c.id).join(','),
      from_ms: String(from),
      to_ms: String(bucketMs ? from + bucketMs * Math.ceil((to - from) / bucketMs) : to),
    });
    if (bucketMs) query.set('bucket_ms', String(bucketMs));
    let found;
    try {
      found = await call('GET', `/timeline?${query}`);
    } catch (error) {
      say(/** @type {Error} */ (error).message);
      return;
    }
    const at = (/** @type {number} */ t) => `${((t - from) / span) * 100}%`;
    const rows = found.cameras.map((/** @type {any} */ row, /** @type {number} */ n) => {
      const spans = bucketMs
        ? row.recorded_ms.flatMap((/** @type {number} */ ms, /** @type {number} */ i) =>
            ms > 0 ? [[from + i * bucketMs, from + (i + 1) * bucketMs]] : [])
        : row.intervals.map((/** @type {any} */ i) => [i.start_ms, i.end_ms]);
      const bar = h('div', { class: 'bar', 'data-camera': row.camera_id },
        ...spans.map((/** @type {number[]} */ [start, end]) =>
          h('span', { class: 'recorded', style: `left:${at(Math.max(start, from))};width:${at(from + Math.min(end, from + span) - Math.max(start, from))}` })));
      if (this.#markIn !== null && this.#markOut !== null) {
        bar.append(h('span', { class: 'marked', style: `left:${at(this.#markIn)};width:${at(from + this.#markOut - this.#markIn)}` }));
      }
      const recorded = (/** @type {number} */ t) => t < Date.now() - ON_DISK_AFTER_MS
        && spans.some((/** @type {number[]} */ [start, end]) => start <= t && t < end);
      this.#scrubbable(bar, row.camera_id, from, span, recorded);
      return h('div', { class: 'row' }, h('span', { class: 'name' }, this.#cameras[n]?.name ?? row.camera_id), bar);
    });
    const scale = h('div', { class: 'row scale' }, h('span', { class: 'name' }),
      h('div', { class: 'bar' }, ...[0, 0.25, 0.5, 0.75].map((f) =>
        h('span', { class: 'tick', style: `left:${f * 100}%` }, label(from + f * span, span)))));
    timeline.replaceChildren(scale, ...rows, h('div', { id: 'pb-cursor' }));
    this.#placeCursor(this.timeMs);
  }

  /** A camera's timeline bar: a click or a drag seeks (during a drag, at most every
   * SCRUB_EVERY_MS, without moving the window), and the pointer resting over it shows the
   * recorded picture of that time above it. */
  #scrubbable(/** @type {HTMLElement} */ bar, /** @type {string} */ cameraId, /** @type {number} */ from, /** @type {number} */ span,
              /** @type {(timeMs: number) => boolean} */ recorded) {
    const timeAt = (/** @type {PointerEvent} */ event) => {
      const box = bar.getBoundingClientRect();
      return from + (Math.max(0, Math.min(event.clientX - box.left, box.width)) / box.width) * span;
    };
    let dragging = false;
    let soughtAt = 0;
    bar.addEventListener('pointerdown', (event) => {
      dragging = true;
      bar.setPointerCapture(event.pointerId);
    });
    bar.addEventListener('pointermove', (event) => {
      const at = timeAt(event);
      showThumb(recorded(at) ? cameraId : null, at, event.clientX, bar.getBoundingClientRect().top);
      if (dragging && Date.now() - soughtAt > SCRUB_EVERY_MS) {
        soughtAt = Date.now();
        this.seek(timeAt(event), false);
        this.#placeCursor(timeAt(event));
      }
    });
    bar.addEventListener('pointerup', (event) => {
      if (!dragging) return;
      dragging = false;
      this.seek(timeAt(event));
    });
    bar.addEventListener('pointerleave', () => {
      if (!dragging) hideThumb();
    });
  }

  #placeCursor(/** @type {number | null} */ now) {
    const cursor = document.getElementById('pb-cursor');
    if (!cursor) return;
    const span = SPANS_MS[this.#spanIndex];
    const fraction = now === null ? -1 : (now - this.#windowFrom) / span;
    cursor.hidden = fraction < 0 || fraction > 1;
    cursor.style.setProperty('--at', String(fraction));
  }

  #onKey = (/** @type {KeyboardEvent} */ event) => {
    if (byId('playback-view').hidden || event.target instanceof HTMLInputElement) return;
    const keys = /** @type {Record<string, () => void>} */ ({
      ' ': () => (this.#controlled()[0]?.clock?.playing === false ? this.play(1) : this.pause()),
      ArrowLeft: () => this.step(-1),
      ArrowRight: () => this.step(1),
      '+': () => this.zoom(-1),
      '-': () => this.zoom(1),
    });
    const action = keys[event.key];
    if (!action) return;
    event.preventDefault();
    action();
  };
}

/** A time on the scale: the date too when the window spans days. */
function label(/** @type {number} */ timeMs, /** @type {number} */ spanMs) {
  const at = new Date(timeMs);
  return spanMs > 86_400e3 ? at.toLocaleDateString() : at.toLocaleTimeString();
}

/** @type {ReturnType<typeof setTimeout> | undefined} */ let thumbTimer;

/** The recorded picture of `cameraId` at `timeMs` (null: nothing recorded then), above the
 * timeline at `x`, asked for once the pointer rests (a picture is decoded per request: not
 * one per pixel moved). */
function showThumb(/** @type {string | null} */ cameraId, /** @type {number} */ timeMs, /** @type {number} */ x, /** @type {number} */ top) {
  const thumb = byId('pb-thumb');
  const image = /** @type {HTMLImageElement} */ (thumb.querySelector('img'));
  thumb.hidden = false;
  thumb.style.left = `${x}px`;
  thumb.style.bottom = `${window.innerHeight - top + 4}px`;
  /** @type {HTMLElement} */ (thumb.querySelector('span')).textContent =
    `${new Date(timeMs).toLocaleTimeString()}${cameraId ? '' : ': not recorded'}`;
  clearTimeout(thumbTimer);
  image.hidden = !cameraId;
  if (!cameraId) return;
  thumbTimer = setTimeout(() => {
    const query = new URLSearchParams({ time_ms: String(Math.round(timeMs)), width: '160' });
    image.dataset.camera = cameraId;
    image.dataset.timeMs = String(Math.round(timeMs));
    image.src = `/api/v1/cameras/${encodeURIComponent(cameraId)}/archive/snapshot?${query}`;
  }, THUMB_REST_MS);
}

function hideThumb() {
  clearTimeout(thumbTimer);
  byId('pb-thumb').hidden = true;
}
