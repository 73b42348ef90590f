// The live view: a camera tree (status, search) beside a grid of tiles (1 to 64, and big
// tiles over 2×2 cells), each playing a camera live. Cameras go into tiles by a click (the
// selected tile, else the first empty one) or by dragging; a tile big enough plays the main
// stream, a small one the sub stream. Double-click (or Enter) shows one tile over the whole
// grid. What a window shows is kept per user and system in this browser; layouts saved in
// the system (layouts.js) can be shown in any window.

import { ApiError, cameras as listCameras } from './api.js';
import { attempt, byId, h, say } from './dom.js';
import { SIZES, checked, toggleBig, uniform, uniformSize } from './grid.js';
import { SavedLayouts } from './layouts.js';
import './player.js';
import { showPtz } from './ptz.js';

const MAIN_FROM_PX = 480; // tiles at least this wide play the main stream
const STATUS_EVERY_MS = 5000;
const DRAGGED = 'application/x-vigil-camera';

/**
 * @typedef {{id: string, name: string, enabled: boolean, ptz: boolean,
 *            streams: Record<string, {status: {state: string, reason: string},
 *                                     recording?: {state: string} | null}>,
 *            recording: {mode: string}}} Camera
 * @typedef {{grid: import('./grid.js').Grid, saved: string | null}} Layout  what a window
 *   shows, and the saved layout it came from
 */

export class LiveView {
  /** @type {Camera[]} */ cameras = [];
  /** @type {Layout} */ layout = { grid: uniform(4), saved: null };
  selected = 0;
  /** @type {number | null} */ zoomed = null;
  #key;
  /** @type {ReturnType<typeof setInterval> | undefined} */ #timer;
  #resize = new ResizeObserver((entries) => {
    for (const entry of entries) this.#pickStream(/** @type {HTMLElement} */ (entry.target));
  });

  #mayPtz;
  #shown = false; // between start() and stop(): a list that comes later is not drawn
  #saved;

  constructor(/** @type {string} */ storageKey, /** @type {{functions: string[], operations: string[]}} */ rights) {
    this.#key = storageKey;
    this.#mayPtz = rights.functions.includes('ptz');
    this.#saved = new SavedLayouts(rights, (saved) => this.#show(saved), () => this.layout);
    try {
      const stored = JSON.parse(localStorage.getItem(storageKey) ?? 'null');
      const grid = checked(stored?.grid);
      if (grid) this.layout = { grid, saved: typeof stored.saved === 'string' ? stored.saved : null };
    } catch {
      // a layout that cannot be read: the default one
    }
  }

  async start() {
    this.stop(); // started again (back from another view): once
    byId('layouts').replaceChildren(
      ...SIZES.map((size) =>
        h('button', { type: 'button', 'data-size': String(size), title: `${size} tiles`,
                      onclick: () => this.setSize(size) }, String(size)),
      ),
    );
    /** @type {HTMLInputElement} */ (byId('camera-search')).oninput = () => this.#renderTree();
    byId('tile-big').onclick = () => this.toggleBig(this.selected);
    document.addEventListener('keydown', this.#onKey);
    this.#shown = true;
    await Promise.all([this.refresh(), attempt(() => this.#saved.refresh())]);
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
    return this.#tiles().flatMap((tile) => this.cameras.filter((c) => c.id === tile.camera_id));
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

  /** Tiles of one cell, `size` of them, with the cameras shown so far in order. */
  setSize(/** @type {number} */ size) {
    this.#change(uniform(size, this.#tiles().map((t) => t.camera_id)));
  }

  /** The tile over 2×2 cells, or back to cells of one. */
  toggleBig(/** @type {number} */ index) {
    const grid = toggleBig(this.layout.grid, index);
    const { x, y } = this.layout.grid.tiles[index];
    if (grid) this.#change(grid, x, y);
    else say('No room for a big tile there: pick a tile with room to its right and below.');
  }

  /** Put a camera in a tile: the one given, else the selected one if empty, else the first empty. */
  place(/** @type {string} */ cameraId, /** @type {number | null} */ index = null) {
    const tiles = this.#tiles();
    const target = index ?? (tiles[this.selected]?.camera_id === null ? this.selected
      : tiles.findIndex((t) => t.camera_id === null));
    if (target < 0) return;
    tiles[target].camera_id = cameraId;
    this.#save();
    this.#renderTile(target);
    this.#select(target);
  }

  clear(/** @type {number} */ index) {
    this.#tiles()[index].camera_id = null;
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

  #tiles() {
    return this.layout.grid.tiles;
  }

  /** Show another grid (the selected tile: the one at x, y, if any), from `saved`. */
  #change(/** @type {import('./grid.js').Grid} */ grid, x = -1, y = -1, saved = this.layout.saved) {
    const at = grid.tiles.findIndex((t) => t.x === x && t.y === y);
    this.layout = { grid, saved };
    this.zoomed = null;
    this.#save();
    this.#renderGrid();
    this.#select(at >= 0 ? at : Math.min(this.selected, grid.tiles.length - 1));
  }

  /** A saved layout picked (null: none; the window keeps what it shows). */
  #show(/** @type {import('./layouts.js').Saved | null} */ saved) {
    this.#change(saved ? structuredClone(saved.grid) : this.layout.grid, -1, -1, saved?.id ?? null);
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
    grid.style.setProperty('--columns', String(this.layout.grid.columns));
    grid.style.setProperty('--rows', String(this.layout.grid.rows));
    grid.classList.remove('zoomed');
    this.#resize.disconnect();
    grid.replaceChildren(...this.#tiles().map((_, index) => this.#tile(index)));
    const size = uniformSize(this.layout.grid);
    for (const button of byId('layouts').children) {
      button.classList.toggle('active', Number(/** @type {HTMLElement} */ (button).dataset.size) === size);
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
    const place = this.#tiles()[index];
    const cameraId = place.camera_id;
    const camera = this.cameras.find((c) => c.id === cameraId);
    const tile = h('div', {
      class: `tile${index === this.selected ? ' selected' : ''}`,
      'data-index': String(index),
      style: `--column: ${place.x + 1} / span ${place.width}; --row: ${place.y + 1} / span ${place.height}`,
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
      tile.append(h('p', { class: 'hint' }, 'no permission, or the camera was deleted'),
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
    const selected = this.#tiles()[index];
    const camera = this.cameras.find((c) => c.id === selected?.camera_id) ?? null;
    showPtz(this.#mayPtz ? camera : null);
    for (const tile of byId('grid').children) {
      tile.classList.toggle('selected', Number(/** @type {HTMLElement} */ (tile).dataset.index) === index);
    }
    byId('tile-big').classList.toggle('active', Boolean(selected && selected.width > 1));
  }

  #onKey = (/** @type {KeyboardEvent} */ event) => {
    if (byId('live-view').hidden || event.target instanceof HTMLInputElement) return;
    if (/^[1-9]$/.test(event.key) && Number(event.key) <= this.#tiles().length) {
      this.#select(Number(event.key) - 1);
    } else if (event.key === 'b' || event.key === 'B') {
      this.toggleBig(this.selected);
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
