// The login screen: a card per system this browser knows, the one of this server first with
// its login form; an undefined server at the bottom, offering a new system or joining one.

import { createSystem, joinSystem, login } from './api.js';
import { attempt, byId, h, say } from './dom.js';
import { knownSystems } from './systems.js';

/**
 * @typedef {{id: string, name: string, version: string, state: 'undefined' | 'member',
 *            system: {id: string, name: string} | null, logged_in: boolean}} ServerInfo
 */

/**
 * Show the login screen for this server.
 * @param {ServerInfo} here
 * @param {(remember: boolean) => void} loggedIn  called once a login succeeds
 */
export function showLogin(here, loggedIn) {
  const known = knownSystems();
  const cards = [];
  if (here.system) cards.push(systemCard(here, known.find((s) => s.id === here.system?.id), loggedIn));
  for (const other of known.filter((s) => s.id !== here.system?.id)) cards.push(otherCard(other));
  if (here.state === 'undefined') cards.push(undefinedCard(here, loggedIn));
  byId('systems').replaceChildren(...cards);
  byId('workspace').hidden = true;
  byId('login-screen').hidden = false;
  /** @type {HTMLInputElement | null} */ (document.querySelector('#login input[name=name]'))?.focus();
}

/** @param {ServerInfo} here @param {import('./systems.js').KnownSystem | undefined} known */
function systemCard(here, known, /** @type {(remember: boolean) => void} */ loggedIn) {
  const servers = known?.servers.length
    ? known.servers
    : [{ id: here.id, name: here.name, address: location.host, version: here.version }];
  const form = h(
    'form',
    { id: 'login', class: 'login' },
    h('label', {}, 'Name ', h('input', { name: 'name', autocomplete: 'username', required: true })),
    h('label', {}, 'Password ', h('input', {
      name: 'password', type: 'password', autocomplete: 'current-password', required: true,
    })),
    h('label', { class: 'check' }, h('input', { name: 'remember', type: 'checkbox' }), ' Remember me'),
    h('button', {}, 'Log in'),
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const fields = new FormData(/** @type {HTMLFormElement} */ (form));
    const remember = fields.get('remember') === 'on';
    if (await attempt(() => login(String(fields.get('name')), String(fields.get('password')), remember))) {
      loggedIn(remember);
    }
  });
  return h(
    'article',
    { class: 'card', 'data-system': here.system?.id ?? '' },
    h('h2', {}, here.system?.name ?? '', known?.remembered ? h('span', { class: 'mark', title: 'login remembered' }, ' ● remembered') : null),
    h('p', { class: 'connected' }, 'Connected to ', h('strong', {}, here.name), ` at ${location.host}`),
    serverList(servers, here.id),
    form,
  );
}

/** A system this browser knew through another server: a link to it. */
function otherCard(/** @type {import('./systems.js').KnownSystem} */ system) {
  const first = system.servers[0];
  return h(
    'article',
    { class: 'card other', 'data-system': system.id },
    h('h2', {}, system.name, system.remembered ? h('span', { class: 'mark' }, ' ● remembered') : null),
    serverList(system.servers, null),
    first ? h('a', { href: `${location.protocol}//${first.address}/` }, `Open at ${first.address}`) : null,
  );
}

/**
 * @param {import('./systems.js').KnownServer[]} servers
 * @param {string | null} connectedId  marked as the server this page talks to
 */
function serverList(servers, connectedId) {
  return h(
    'ul',
    { class: 'servers' },
    ...servers.map((s) =>
      h('li', { class: s.id === connectedId ? 'connected' : '' },
        h('span', { class: 'name' }, s.name), ` ${s.address} `, h('span', { class: 'version' }, `v${s.version}`),
        s.id === connectedId ? h('span', { class: 'mark', title: 'connected' }, ' ★') : null),
    ),
  );
}

/** @param {ServerInfo} here */
function undefinedCard(here, /** @type {(remember: boolean) => void} */ loggedIn) {
  const field = (/** @type {string} */ label, /** @type {string} */ name, type = 'text', value = '') =>
    h('label', {}, `${label} `, h('input', { name, type, value, required: true }));
  // What both forms ask: this server's name in the system, and the owner's credentials.
  const serverAndOwner = () => [
    field('Server name', 'server_name', 'text', here.name),
    field('Owner name', 'owner_name', 'text', 'owner'),
    field('Owner password', 'owner_password', 'password'),
  ];
  const newSystem = h(
    'form',
    { id: 'new-system', class: 'login', hidden: true },
    field('System name', 'system_name'),
    ...serverAndOwner(),
    h('label', { class: 'check' }, h('input', { name: 'connect', type: 'checkbox', checked: true }), ' Connect after save'),
    h('button', {}, 'Save'),
  );
  newSystem.addEventListener('submit', async (event) => {
    event.preventDefault();
    const fields = Object.fromEntries(new FormData(/** @type {HTMLFormElement} */ (newSystem)));
    const { connect, ...body } = /** @type {Record<string, string>} */ (fields);
    if (!(await attempt(() => createSystem(body)))) return;
    if (connect && (await attempt(() => login(body.owner_name, body.owner_password)))) loggedIn(false);
    else location.reload();
  });
  const join = h(
    'form',
    { id: 'join-system', class: 'login', hidden: true },
    field('Address of a member (host:port)', 'address'),
    ...serverAndOwner(),
    h('button', {}, 'Join'),
  );
  join.addEventListener('submit', async (event) => {
    event.preventDefault();
    const body = /** @type {Record<string, string>} */ (Object.fromEntries(new FormData(/** @type {HTMLFormElement} */ (join))));
    if (await attempt(() => joinSystem(body))) location.reload();
  });
  const reveal = (/** @type {HTMLElement} */ shown, /** @type {HTMLElement} */ hidden) => () => {
    shown.hidden = false;
    hidden.hidden = true;
    say('');
    /** @type {HTMLInputElement | null} */ (shown.querySelector('input'))?.focus();
  };
  return h(
    'article',
    { class: 'card undefined' },
    h('h2', {}, 'Undefined server'),
    serverList([{ id: here.id, name: here.name, address: location.host, version: here.version }], here.id),
    h('p', {},
      h('button', { type: 'button', id: 'offer-new', onclick: reveal(newSystem, join) }, 'New system'), ' ',
      h('button', { type: 'button', id: 'offer-join', onclick: reveal(join, newSystem) }, 'Join a system')),
    newSystem,
    join,
  );
}

