// The playback view: the cameras of this window's live layout, recorded, on one clock (one
// playback session: every picture of the same moment shows together), with a timeline per
// camera (what is recorded, where the clock is; a click goes there), speeds, steps, zoom
// from 30 days to a minute, and export of a range of the selected camera.

import { call } from './api.js';
import { byId, h, say } from './dom.js';
import { playableCodecs } from './mse.js';
import { videoSink } from './player.js';
import { PlaybackSource } from './sources.js';

// The timeline's spans, narrowest first (+ and - step through them).
const SPANS_MS = [60e3, 5 * 60e3, 15 * 60e3, 3600e3, 6 * 3600e3, 86_400e3, 7 * 86_400e3, 30 * 86_400e3];
const MAX_INTERVALS_MS = 7 * 86_400e3; // longer: time recorded per bucket (docs/api.md)
const BUCKETS = 400;
const TIMELINE_EVERY_MS = 10_000;
const START_BEFORE_MS = 60_000; // opened without a time: this long ago

/** @typedef {{id: string, name: string}} Camera */

export class PlaybackView {
  /** @type {Camera[]} */ #cameras = [];
  /** @type {PlaybackSource | null} */ #source = null;
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
    };
    for (const [id, action] of Object.entries(buttons)) byId(id).addEventListener('click', action);
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
    this.#source = new PlaybackSource({
      cameras: cameras.map((c) => c.id),
      timeMs: timeMs ?? Date.now() - START_BEFORE_MS,
      speed: 1,
      stream: cameras.length > 4 ? 'sub' : 'main',
      codecs: playableCodecs(),
    }, sinks);
    this.#windowFrom = (timeMs ?? Date.now() - START_BEFORE_MS) - SPANS_MS[this.#spanIndex] / 2;
    document.addEventListener('keydown', this.#onKey);
    this.#timer = setInterval(() => this.#tick(), 250);
    this.#drawTimeline();
  }

  stop() {
    clearInterval(this.#timer);
    document.removeEventListener('keydown', this.#onKey);
    this.#source?.close();
    this.#source = null;
    for (const tile of this.#tiles) tile.close();
    this.#tiles = [];
    byId('pb-grid').replaceChildren();
  }

  /** The archive time showing (ms since 1970), or null before the server said. */
  get timeMs() {
    const tile = this.#tiles[0];
    return tile && this.#source ? this.#source.timeAt(tile.video.currentTime) : null;
  }

  seek(/** @type {number} */ timeMs) {
    if (timeMs > Date.now()) timeMs = Date.now() - 1000; // nothing is recorded ahead
    this.#source?.seek(timeMs);
    this.#center(timeMs);
  }

  play(/** @type {number} */ speed) {
    this.#source?.play(speed);
  }

  pause() {
    this.#source?.pause();
  }

  step(/** @type {1 | -1} */ frames) {
    this.#source?.step(frames);
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
      bar.addEventListener('click', (event) => {
        const box = bar.getBoundingClientRect();
        this.seek(from + ((event.clientX - box.left) / box.width) * span);
      });
      return h('div', { class: 'row' }, h('span', { class: 'name' }, this.#cameras[n]?.name ?? row.camera_id), bar);
    });
    const scale = h('div', { class: 'row scale' }, h('span', { class: 'name' }),
      h('div', { class: 'bar' }, ...[0, 0.25, 0.5, 0.75].map((f) =>
        h('span', { class: 'tick', style: `left:${f * 100}%` }, label(from + f * span, span)))));
    timeline.replaceChildren(scale, ...rows, h('div', { id: 'pb-cursor' }));
    this.#placeCursor(this.timeMs);
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
      ' ': () => (this.#source?.clock?.playing === false ? this.play(1) : this.pause()),
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
