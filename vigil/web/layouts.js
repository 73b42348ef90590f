// Layouts kept by the system (GET/POST/PATCH/DELETE /layouts): a user's own, and shared ones
// their role reaches. Picking one shows it in this window; saving keeps what the window
// shows under a name, for this user or shared. What a user may do follows the role's
// `layout.add`, `layout.edit` and `layout.delete` operations.

import { call } from './api.js';
import { attempt, byId, field, h } from './dom.js';

/**
 * @typedef {import('./grid.js').Grid} Grid
 * @typedef {{id: string, name: string, shared: boolean, grid: Grid}} Saved
 */

export class SavedLayouts {
  /** @type {Saved[]} */ layouts = [];
  #may;
  #pick;
  #current;
  #reached; // the role may see layouts at all (live view)

  /**
   * @param {{functions: string[], operations: string[]}} rights  the role's
   * @param {(saved: Saved | null) => void} pick  a saved layout chosen (null: none)
   * @param {() => {grid: Grid, saved: string | null}} current  what the window shows
   */
  constructor(rights, pick, current) {
    this.#may = (/** @type {string} */ what) => rights.operations.includes(`layout.${what}`);
    this.#pick = pick;
    this.#current = current;
    this.#reached = rights.functions.includes('live_view');
    byId('saved-layouts').hidden = !this.#reached;
    const form = /** @type {HTMLFormElement} */ (byId('layout-save'));
    form.hidden = !this.#reached || (!this.#may('add') && !this.#may('edit'));
    form.onsubmit = (event) => {
      event.preventDefault();
      const asNew = /** @type {SubmitEvent} */ (event).submitter?.getAttribute('name') === 'new';
      attempt(() => this.#save(asNew));
    };
    byId('layout-delete').onclick = () => attempt(() => this.#delete());
    /** @type {HTMLSelectElement} */ (byId('saved-layouts')).onchange = (event) => {
      const id = /** @type {HTMLSelectElement} */ (event.target).value;
      this.#pick(this.layouts.find((l) => l.id === id) ?? null);
      this.#showControls();
    };
  }

  async refresh() {
    if (!this.#reached) return;
    const { layouts } = await call('GET', '/layouts');
    this.layouts = layouts;
    const { saved } = this.#current();
    byId('saved-layouts').replaceChildren(
      h('option', { value: '' }, layouts.length ? 'Saved layouts…' : 'No saved layouts'),
      ...layouts.map((/** @type {Saved} */ l) =>
        h('option', { value: l.id, selected: l.id === saved }, l.shared ? `${l.name} (shared)` : l.name)),
    );
    this.#showControls();
  }

  /** The buttons and the name box for the layout shown: it can be saved again if it is one. */
  #showControls() {
    const { saved } = this.#current();
    const layout = this.layouts.find((l) => l.id === saved);
    field('layout-save', 'name').value = layout?.name ?? '';
    field('layout-save', 'shared').checked = layout?.shared ?? false;
    field('layout-save', 'save').hidden = !layout || !this.#may('edit');
    field('layout-save', 'new').hidden = !this.#may('add');
    byId('layout-delete').hidden = !layout || !this.#may('delete');
  }

  async #save(/** @type {boolean} */ asNew) {
    const { grid, saved } = this.#current();
    const body = {
      name: field('layout-save', 'name').value,
      shared: field('layout-save', 'shared').checked,
      grid,
    };
    const kept = asNew || !saved ? await call('POST', '/layouts', body)
      : await call('PATCH', `/layouts/${encodeURIComponent(saved)}`, body);
    this.#pick(kept);
    await this.refresh();
  }

  async #delete() {
    const { saved } = this.#current();
    if (!saved) return;
    await call('DELETE', `/layouts/${encodeURIComponent(saved)}`);
    this.#pick(null);
    await this.refresh();
  }
}
