// More windows for more monitors: up to 4, each with its own live layout. The main window
// (number 1) opens the others (`/?window=N`) and keeps which are open, per user and system,
// so that they open again at the next login; closing one by itself forgets it. A browser
// lets a page open one window per click: the ones it blocks are offered as buttons.

import { byId, h } from './dom.js';

export const MAX_WINDOWS = 4;

/** This window's number: 1 for the main window. */
export const windowNumber = (() => {
  const asked = Number(new URLSearchParams(location.search).get('window'));
  return Number.isInteger(asked) && asked >= 2 && asked <= MAX_WINDOWS ? asked : 1;
})();

export class Windows {
  #key;
  #loggingOut = false; // closed by the main window's logout: opened again at the next login

  constructor(/** @type {string} */ storageKey) {
    this.#key = storageKey;
    if (windowNumber !== 1) {
      // Closed by itself (its main window still open): not to be opened again.
      addEventListener('pagehide', () => {
        if (!this.#loggingOut && window.opener && !window.opener.closed) {
          this.#store(this.open.filter((n) => n !== windowNumber));
        }
      });
    }
  }

  /** @returns {number[]} the numbers of the windows to be open besides the main one */
  get open() {
    try {
      const stored = JSON.parse(localStorage.getItem(this.#key) ?? '[]');
      return Array.isArray(stored) ? stored.filter((n) => n >= 2 && n <= MAX_WINDOWS) : [];
    } catch {
      return [];
    }
  }

  /** A new window, with the lowest free number; false when all are open. */
  add() {
    const free = [2, 3, 4].find((n) => !this.open.includes(n));
    if (free === undefined) return false;
    this.#store([...this.open, free]);
    this.#show(free);
    return true;
  }

  /** The windows that were open, opened again (those the browser blocks, as buttons). */
  restore() {
    const blocked = this.open.filter((n) => !this.#show(n));
    byId('reopen').replaceChildren(
      ...blocked.map((n) =>
        h('button', { type: 'button', onclick: (/** @type {Event} */ event) => {
          this.#show(n);
          /** @type {HTMLElement} */ (event.target).remove();
        } }, `Open window ${n}`),
      ),
    );
  }

  /** Close the other windows (logging out), keeping them to open again at the next login. */
  closeAll() {
    new BroadcastChannel(CHANNEL).postMessage('logout');
  }

  /** In a window other than the main one: close when the main one logs out. */
  closeOnLogout() {
    new BroadcastChannel(CHANNEL).onmessage = (event) => {
      if (event.data !== 'logout') return;
      this.#loggingOut = true;
      window.close();
    };
  }

  #show(/** @type {number} */ n) {
    return window.open(`/?window=${n}`, windowName(n), 'popup') !== null;
  }

  #store(/** @type {number[]} */ numbers) {
    localStorage.setItem(this.#key, JSON.stringify([...new Set(numbers)].sort()));
  }
}

const windowName = (/** @type {number} */ n) => `vigil-window-${n}`;
const CHANNEL = 'vigil-windows';
