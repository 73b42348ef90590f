// The web client: the login screen, then the workspace (live grid, or one camera's view when
// the address says `#camera=ID`). docs/design/web.md.

import { ApiError, logout, me, server, servers } from './api.js';
import { byId, say } from './dom.js';
import { LiveView } from './live.js';
import { showLogin } from './login.js';
import { forgetLogin, rememberSystem } from './systems.js';
import { hideViewer, showViewer } from './viewer.js';

/** @type {LiveView | null} */ let live = null;
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
  const [{ user }, { servers: list }] = await Promise.all([me(), servers()]);
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
  live = new LiveView(`vigil.layout.${system.id}.${user.id}`);
  await route();
}

/** The view the address asks for. */
async function route() {
  const wanted = new URLSearchParams(location.hash.slice(1));
  const camera = wanted.has('camera');
  byId('viewer').hidden = !camera;
  byId('live-view').hidden = camera;
  if (camera) {
    live?.stop();
    await showViewer(wanted);
  } else {
    hideViewer();
    await live?.start();
  }
}

byId('logout').addEventListener('click', async () => {
  live?.stop();
  hideViewer();
  await logout().catch(() => {}); // an ended session: logged out all the same
  if (here.system) forgetLogin(here.system.id);
  showLogin(await server(), enter);
});
byId('show-live').addEventListener('click', () => {
  location.hash = '';
});
window.addEventListener('hashchange', () => {
  if (!byId('workspace').hidden) route();
});

start();
