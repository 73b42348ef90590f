// The web client: the login screen, then the workspace (live grid, or one camera's view when
// the address says `#camera=ID`). docs/design/web.md.

import { ApiError, logout, me, server, servers } from './api.js';
import { byId, say } from './dom.js';
import { LiveView } from './live.js';
import { PlaybackView } from './playback.js';
import { showLogin } from './login.js';
import { forgetLogin, knownSystems, rememberSystem } from './systems.js';
import { showAudit } from './audit.js';
import { showSettings } from './settings.js';
import { showServers, showStorages } from './system.js';
import { showUsers } from './users.js';
import { hideViewer, showViewer } from './viewer.js';
import { MAX_WINDOWS, Windows, windowNumber } from './windows.js';

/** @type {LiveView | null} */ let live = null;
/** @type {Windows | null} */ let windows = null;
const playback = new PlaybackView();
/** @type {import('./settings.js').Rights} */ let rights = { functions: [], operations: [] };
let owner = false;
/** @type {import('./login.js').ServerInfo} */ let here;

async function start() {
  here = await server();
  if (here.state !== 'member' || !here.logged_in) return showLogin(here, enter);
  try {
    await me();
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    if (error.status !== 401) say(error.message);
    return showLogin(await server(), enter);
  }
  await enter(null);
}

/** Logged in (`remember`: as asked at the login; null: a session found on loading). */
async function enter(/** @type {boolean | null} */ remember) {
  here = await server();
  const [{ user, rights: granted }, { servers: list }] = await Promise.all([me(), servers()]);
  rights = granted;
  owner = user.role_id === 'owner';
  byId('show-settings').hidden = !rights.functions.includes('settings');
  byId('show-playback').hidden = !rights.functions.includes('playback');
  byId('show-audit').hidden = !rights.functions.includes('audit_trail');
  const system = /** @type {{id: string, name: string}} */ (here.system);
  const known = knownSystems().find((s) => s.id === system.id);
  rememberSystem({
    id: system.id,
    name: system.name,
    servers: list.map((/** @type {any} */ s) => ({
      id: s.id, name: s.name, address: s.addresses[0] ?? '', version: s.version,
    })),
    remembered: remember ?? known?.remembered ?? false,
    seenMs: Date.now(),
  });
  byId('system-name').textContent = system.name;
  byId('server-name').textContent = `${here.name} (${location.host})`;
  byId('user-name').textContent = user.name;
  byId('login-screen').hidden = true;
  byId('workspace').hidden = false;
  say('');
  live = new LiveView(`vigil.layout.${system.id}.${user.id}.${windowNumber}`, rights);
  windows = new Windows(`vigil.windows.${system.id}.${user.id}`);
  const main = windowNumber === 1;
  byId('new-window').hidden = !main;
  byId('logout').hidden = !main;
  if (main) windows.restore();
  else {
    windows.closeOnLogout();
    byId('show-settings').hidden = true;
    byId('show-playback').hidden = true;
    byId('show-audit').hidden = true;
    document.title = `Vigil — window ${windowNumber}`;
  }
  await route();
}

/** The view the address asks for (`#settings`, `#audit`, `#playback[=MS]`, `#camera=ID…`, else
 * live), as the role allows; windows other than the main one show live video only. */
async function route() {
  const wanted = new URLSearchParams(location.hash.slice(1));
  const may = (/** @type {string} */ f) => rights.functions.includes(f);
  /** @type {'live' | 'playback' | 'audit' | 'settings' | 'camera'} */
  let view = 'live';
  if (windowNumber === 1) {
    if (wanted.has('settings') && may('settings')) view = 'settings';
    else if (wanted.has('playback') && may('playback')) view = 'playback';
    else if (wanted.has('audit') && may('audit_trail')) view = 'audit';
    else if (wanted.has('camera')) view = 'camera';
  }
  const views = {
    live: 'live-view', playback: 'playback-view', audit: 'audit-view', settings: 'settings-view', camera: 'viewer',
  };
  for (const [name, id] of Object.entries(views)) byId(id).hidden = view !== name;
  for (const name of ['live', 'playback', 'audit', 'settings']) {
    byId(`show-${name}`).classList.toggle('active', view === name);
  }
  if (view !== 'live') live?.stop();
  if (view !== 'camera') hideViewer();
  if (view !== 'playback') playback.stop();
  if (view === 'settings') await showSection(wanted.get('settings') || 'cameras');
  else if (view === 'audit') await showAudit();
  else if (view === 'camera') await showViewer(wanted);
  else if (view === 'playback' && live) {
    const at = Number(wanted.get('playback'));
    playback.start(await live.layoutCameras(), at > 0 ? at : null);
  } else await live?.start();
}

const SECTIONS = ['cameras', 'storages', 'users', 'servers'];

/** A part of the settings: cameras, storages, users and roles, or system and servers. */
async function showSection(/** @type {string} */ section) {
  const shown = SECTIONS.includes(section) ? section : 'cameras';
  for (const name of SECTIONS) {
    byId(`settings-${name}`).hidden = name !== shown;
    byId(`show-settings-${name}`).classList.toggle('active', name === shown);
  }
  if (shown === 'storages') await showStorages(rights);
  else if (shown === 'servers') await showServers(rights, owner);
  else if (shown === 'users') await showUsers(rights);
  else await showSettings(rights);
}

byId('logout').addEventListener('click', async () => {
  live?.stop();
  playback.stop();
  hideViewer();
  windows?.closeAll();
  // Nothing of this user's stays on the page for the next one to see, even for a moment.
  for (const id of ['camera-tree', 'camera-rows', 'storage-rows', 'server-rows', 'user-rows', 'role-rows', 'conflict-rows', 'audit-rows', 'pb-grid', 'timeline']) {
    byId(id).replaceChildren();
  }
  for (const id of ['camera-edit', 'role-edit']) byId(id).hidden = true;
  await logout().catch(() => {}); // an ended session: logged out all the same
  if (here.system) forgetLogin(here.system.id);
  showLogin(await server(), enter);
});
byId('new-window').addEventListener('click', () => {
  if (!windows?.add()) say(`At most ${MAX_WINDOWS} windows: close one first.`);
});
window.addEventListener('hashchange', () => {
  if (!byId('workspace').hidden) route();
});

start();
