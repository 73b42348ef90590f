// The live view: a camera tree (status, search) beside a grid of tiles (1 to 64), each
// playing a camera live. Cameras go into tiles by a click (the selected tile, else the first
// empty one) or by dragging; a tile big enough plays the main stream, a small one the sub
// stream. Double-click (or Enter) shows one tile over the whole grid. The layout is kept per
// user and system in this browser.

import { ApiError, cameras as listCameras } from './api.js';
import { byId, h } from './dom.js';
import './player.js';
import { showPtz } from './ptz.js';

export const LAYOUTS = [1, 4, 9, 16, 25, 36, 49, 64];
const MAIN_FROM_PX = 480; // tiles at least this wide play the main stream
const STATUS_EVERY_MS = 5000;
const DRAGGED = 'application/x-vigil-camera';

/**
 * @typedef {{id: string, name: string, enabled: boolean, ptz: boolean,
 *            streams: Record<string, {status: {state: string, reason: string},
 *                                     recording?: {state: string} | null}>,
 *            recording: {mode: string}}} Camera
 * @typedef {{size: number, cells: (string | null)[]}} Layout
 */

export class LiveView {
  /** @type {Camera[]} */ cameras = [];
  /** @type {Layout} */ layout = { size: 4, cells: [null, null, null, null] };
  selected = 0;
  /** @type {number | null} */ zoomed = null;
  #key;
  /** @type {ReturnType<typeof setInterval> | undefined} */ #timer;
  #resize = new ResizeObserver((entries) => {
    for (const entry of entries) this.#pickStream(/** @type {HTMLElement} */ (entry.target));
  });

  #mayPtz;
  #shown = false; // between start() and stop(): a list that comes later is not drawn

  constructor(/** @type {string} */ storageKey, /** @type {boolean} */ mayPtz) {
    this.#key = storageKey;
    this.#mayPtz = mayPtz;
    try {
      const stored = JSON.parse(localStorage.getItem(storageKey) ?? 'null');
      if (stored && LAYOUTS.includes(stored.size) && Array.isArray(stored.cells)) {
        this.layout = { size: stored.size, cells: fit(stored.cells, stored.size) };
      }
    } catch {
      // a layout that cannot be read: the default one
    }
  }

  async start() {
    this.stop(); // started again (back from another view): once
    byId('layouts').replaceChildren(
      ...LAYOUTS.map((size) =>
        h('button', { type: 'button', 'data-size': String(size), title: `${size} tiles`,
                      onclick: () => this.setSize(size) }, String(size)),
      ),
    );
    /** @type {HTMLInputElement} */ (byId('camera-search')).oninput = () => this.#renderTree();
    document.addEventListener('keydown', this.#onKey);
    this.#shown = true;
    await this.refresh();
    this.#renderGrid();
    this.#select(this.selected);
    this.#timer = setInterval(() => {
      this.refresh().catch((error) => {
        if (!(error instanceof ApiError)) throw error; // the last list stays; tiles say theirs
      });
    }, STATUS_EVERY_MS);
  }

  stop() {
    this.#shown = false;
    clearInterval(this.#timer);
    document.removeEventListener('keydown', this.#onKey);
    this.#resize.disconnect();
    byId('grid').replaceChildren(); // ends every tile's connection
  }

  /** The cameras of the layout's tiles, in order (those the role may see). */
  async layoutCameras() {
    await this.refresh();
    return this.layout.cells.flatMap((id) => this.cameras.filter((c) => c.id === id));
  }

  /** The cameras again, for the tree's status marks. */
  async refresh() {
    const { cameras } = await listCameras();
    this.cameras = cameras;
    if (!this.#shown) return; // stopped while asking (logged out, say)
    this.#renderTree();
    for (const tile of byId('grid').querySelectorAll('.tile[data-camera]')) {
      const camera = cameras.find((c) => c.id === /** @type {HTMLElement} */ (tile).dataset.camera);
      const rec = /** @type {HTMLElement | null} */ (tile.querySelector('.rec'));
      if (rec) rec.hidden = !recording(camera);
    }
  }

  setSize(/** @type {number} */ size) {
    this.layout = { size, cells: fit(this.layout.cells, size) };
    this.selected = Math.min(this.selected, size - 1);
    this.zoomed = null;
    this.#save();
    this.#renderGrid();
  }

  /** Put a camera in a tile: the one given, else the selected one if empty, else the first empty. */
  place(/** @type {string} */ cameraId, /** @type {number | null} */ index = null) {
    const cells = this.layout.cells;
    const target = index ?? (cells[this.selected] === null ? this.selected : cells.indexOf(null));
    if (target < 0) return;
    cells[target] = cameraId;
    this.#save();
    this.#renderTile(target);
    this.#select(target);
  }

  clear(/** @type {number} */ index) {
    this.layout.cells[index] = null;
    this.#save();
    this.#renderTile(index);
  }

  toggleZoom(/** @type {number} */ index) {
    this.zoomed = this.zoomed === index ? null : index;
    const grid = byId('grid');
    grid.classList.toggle('zoomed', this.zoomed !== null);
    for (const tile of grid.children) {
      tile.classList.toggle('zoom', Number(/** @type {HTMLElement} */ (tile).dataset.index) === this.zoomed);
    }
  }

  #save() {
    localStorage.setItem(this.#key, JSON.stringify(this.layout));
  }

  #renderTree() {
    const wanted = /** @type {HTMLInputElement} */ (byId('camera-search')).value.trim().toLowerCase();
    const shown = this.cameras
      .filter((c) => c.name.toLowerCase().includes(wanted))
      .sort((a, b) => a.name.localeCompare(b.name, undefined, { numeric: true }));
    byId('camera-tree').replaceChildren(
      ...shown.map((camera) => {
        const state = camera.enabled ? camera.streams.main?.status.state ?? 'unknown' : 'disabled';
        const item = h(
          'li',
          { draggable: 'true', 'data-camera': camera.id, 'data-state': state, title: `${camera.name}: ${state}`,
            onclick: () => this.place(camera.id) },
          h('span', { class: 'dot' }), camera.name,
        );
        item.addEventListener('dragstart', (event) => event.dataTransfer?.setData(DRAGGED, camera.id));
        return item;
      }),
      ...(shown.length ? [] : [h('li', { class: 'empty' }, this.cameras.length ? 'no camera matches' : 'no cameras yet')]),
    );
  }

  #renderGrid() {
    const grid = byId('grid');
    const side = Math.sqrt(this.layout.size);
    grid.style.setProperty('--side', String(side));
    grid.classList.remove('zoomed');
    this.#resize.disconnect();
    grid.replaceChildren(...this.layout.cells.map((_, index) => this.#tile(index)));
    for (const button of byId('layouts').children) {
      button.classList.toggle('active', Number(/** @type {HTMLElement} */ (button).dataset.size) === this.layout.size);
    }
  }

  #renderTile(/** @type {number} */ index) {
    const old = byId('grid').children[index];
    if (old) {
      this.#resize.unobserve(old);
      old.replaceWith(this.#tile(index));
    }
  }

  #tile(/** @type {number} */ index) {
    const cameraId = this.layout.cells[index];
    const camera = this.cameras.find((c) => c.id === cameraId);
    const tile = h('div', {
      class: `tile${index === this.selected ? ' selected' : ''}`,
      'data-index': String(index),
      tabindex: '0',
      onclick: () => this.#select(index),
      ondblclick: () => this.toggleZoom(index),
    });
    tile.addEventListener('dragover', (event) => event.preventDefault());
    tile.addEventListener('drop', (event) => {
      event.preventDefault();
      const dropped = event.dataTransfer?.getData(DRAGGED);
      if (dropped) this.place(dropped, index);
    });
    if (cameraId === null) {
      tile.append(h('p', { class: 'hint' }, index === 0 ? 'Drag a camera here, or click one' : ''));
      return tile;
    }
    if (!camera) {
      tile.append(h('p', { class: 'hint' }, 'camera deleted or not yours to see'),
                  h('button', { type: 'button', class: 'close', title: 'Empty the tile', onclick: () => this.clear(index) }, '×'));
      return tile;
    }
    const video = h('vigil-video', { camera: camera.id, stream: 'sub' });
    tile.dataset.camera = camera.id;
    tile.append(
      video,
      h('div', { class: 'caption' },
        h('span', { class: 'rec', title: 'recording', hidden: !recording(camera) }, 'REC'),
        h('span', { class: 'name' }, camera.name),
        h('a', { class: 'snapshot', title: 'Save a snapshot', download: `${camera.name}.jpg`,
                 href: `/api/v1/cameras/${encodeURIComponent(camera.id)}/snapshot`,
                 onclick: (/** @type {Event} */ event) => event.stopPropagation() }, '📷'),
        h('button', { type: 'button', class: 'close', title: 'Empty the tile', onclick: (event) => {
          event.stopPropagation();
          this.clear(index);
        } }, '×')),
    );
    tile.dataset.hasSub = String('sub' in camera.streams);
    this.#resize.observe(tile);
    return tile;
  }

  /** Main stream in a big tile, sub in a small one (when the camera has one). */
  #pickStream(/** @type {HTMLElement} */ tile) {
    const video = tile.querySelector('vigil-video');
    if (!video) return;
    const stream = tile.clientWidth >= MAIN_FROM_PX || tile.dataset.hasSub !== 'true' ? 'main' : 'sub';
    if (video.getAttribute('stream') !== stream) video.setAttribute('stream', stream);
  }

  #select(/** @type {number} */ index) {
    this.selected = index;
    const camera = this.cameras.find((c) => c.id === this.layout.cells[index]) ?? null;
    showPtz(this.#mayPtz ? camera : null);
    for (const tile of byId('grid').children) {
      tile.classList.toggle('selected', Number(/** @type {HTMLElement} */ (tile).dataset.index) === index);
    }
  }

  #onKey = (/** @type {KeyboardEvent} */ event) => {
    if (byId('live-view').hidden || event.target instanceof HTMLInputElement) return;
    if (/^[1-9]$/.test(event.key) && Number(event.key) <= this.layout.size) {
      this.#select(Number(event.key) - 1);
    } else if (event.key === 'Enter' || event.key === 'f' || event.key === 'F') {
      this.toggleZoom(this.selected);
    } else if (event.key === 'Escape' && this.zoomed !== null) {
      this.toggleZoom(this.zoomed);
    } else if (event.key === 'Delete') {
      this.clear(this.selected);
    } else {
      return;
    }
    event.preventDefault();
  };
}

/** Whether the camera records now (its main stream, as its server says). */
function recording(/** @type {Camera | undefined} */ camera) {
  return camera?.streams.main?.recording?.state === 'recording';
}

/** `cells` for a layout of `size` tiles: cut, or filled with empty tiles. */
function fit(/** @type {(string | null)[]} */ cells, /** @type {number} */ size) {
  return Array.from({ length: size }, (_, n) => (typeof cells[n] === 'string' ? cells[n] : null));
}
