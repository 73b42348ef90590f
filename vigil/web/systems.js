// The systems this browser has logged into, kept in its local storage for the login screen's
// cards: each system's name, its servers (name, address, version) as last seen, and whether
// the login was remembered. Never a password: a remembered login is the session cookie.

const KEY = 'vigil.systems';

/**
 * @typedef {{id: string, name: string, address: string, version: string}} KnownServer
 * @typedef {{id: string, name: string, servers: KnownServer[], remembered: boolean,
 *            seenMs: number}} KnownSystem
 */

/** @returns {KnownSystem[]} the systems known, the one seen last first */
export function knownSystems() {
  try {
    const stored = JSON.parse(localStorage.getItem(KEY) ?? '[]');
    return Array.isArray(stored) ? stored.sort((a, b) => b.seenMs - a.seenMs) : [];
  } catch {
    return []; // unreadable (edited by hand): start again
  }
}

/** Remember (or update) a system after logging in to it. */
export function rememberSystem(/** @type {KnownSystem} */ system) {
  const others = knownSystems().filter((known) => known.id !== system.id);
  localStorage.setItem(KEY, JSON.stringify([system, ...others]));
}

/** The login of a system is no longer remembered (its user logged out). */
export function forgetLogin(/** @type {string} */ systemId) {
  const systems = knownSystems().map((known) =>
    known.id === systemId ? { ...known, remembered: false } : known,
  );
  localStorage.setItem(KEY, JSON.stringify(systems));
}
