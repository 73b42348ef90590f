// The web client: the login screen, then the workspace (live grid, or one camera's view when
// the address says `#camera=ID`). docs/design/web.md.

import { ApiError, logout, me, server, servers } from './api.js';
import { byId, say } from './dom.js';
import { LiveView } from './live.js';
import { showLogin } from './login.js';
import { forgetLogin, rememberSystem } from './systems.js';
import { showSettings } from './settings.js';
import { hideViewer, showViewer } from './viewer.js';
import { MAX_WINDOWS, Windows, windowNumber } from './windows.js';

/** @type {LiveView | null} */ let live = null;
/** @type {Windows | null} */ let windows = null;
/** @type {import('./settings.js').Rights} */ let rights = { functions: [], operations: [] };
/** @type {import('./login.js').ServerInfo} */ let here;

async function start() {
  here = await server();
  if (here.state !== 'member') return showLogin(here, enter);
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
  byId('show-settings').hidden = !rights.functions.includes('settings');
  const system = /** @type {{id: string, name: string}} */ (here.system);
  const known = JSON.parse(localStorage.getItem('vigil.systems') ?? '[]').find(
    (/** @type {{id: string}} */ s) => s.id === system.id,
  );
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
  live = new LiveView(`vigil.layout.${system.id}.${user.id}.${windowNumber}`);
  windows = new Windows(`vigil.windows.${system.id}.${user.id}`);
  const main = windowNumber === 1;
  byId('new-window').hidden = !main;
  byId('logout').hidden = !main;
  if (main) windows.restore();
  else {
    windows.closeOnLogout();
    byId('show-settings').hidden = true;
    document.title = `Vigil — window ${windowNumber}`;
  }
  await route();
}

/** The view the address asks for: `#settings`, `#camera=ID…`, else live. */
async function route() {
  const wanted = new URLSearchParams(location.hash.slice(1));
  // Windows other than the main one show live video only.
  const settings = wanted.has('settings') && rights.functions.includes('settings');
  const view = windowNumber !== 1 ? 'live' : settings ? 'settings' : wanted.has('camera') ? 'camera' : 'live';
  byId('settings-view').hidden = view !== 'settings';
  byId('viewer').hidden = view !== 'camera';
  byId('live-view').hidden = view !== 'live';
  for (const [id, shown] of [['show-live', 'live'], ['show-settings', 'settings']]) {
    byId(id).classList.toggle('active', view === shown);
  }
  if (view !== 'live') live?.stop();
  if (view !== 'camera') hideViewer();
  if (view === 'settings') await showSettings(rights);
  else if (view === 'camera') await showViewer(wanted);
  else await live?.start();
}

byId('logout').addEventListener('click', async () => {
  live?.stop();
  hideViewer();
  windows?.closeAll();
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
