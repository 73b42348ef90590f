// The page: log in, pick a camera and a stream, watch it live or from a time.
// `#camera=ID&stream=sub&time=MS` in the address picks them.

import { ApiError, cameras, login, me } from './api.js';
import './player.js';

const form = /** @type {HTMLFormElement} */ (document.querySelector('#login'));
const problem = /** @type {HTMLElement} */ (document.querySelector('#problem'));
const viewer = /** @type {HTMLElement} */ (document.querySelector('#viewer'));
const cameraChoice = /** @type {HTMLSelectElement} */ (document.querySelector('#camera'));
const streamChoice = /** @type {HTMLSelectElement} */ (document.querySelector('#stream'));
const player = /** @type {import('./player.js').VideoPlayer} */ (
  document.querySelector('vigil-video')
);
const clock = /** @type {HTMLOutputElement} */ (document.querySelector('#clock'));
const when = /** @type {HTMLInputElement} */ (document.querySelector('#when'));
const speed = /** @type {HTMLSelectElement} */ (document.querySelector('#speed'));

/** @type {Record<string, () => void>} what each button does */
const BUTTONS = {
  live: () => player.live(),
  seek: () => {
    if (when.value) player.seek(new Date(when.value).getTime()); // the input is local time
  },
  play: () => player.play(Number(speed.value)),
  pause: () => player.pause(),
  back: () => player.step(-1),
  forward: () => player.step(1),
};

function say(/** @type {string} */ text) {
  problem.textContent = text;
  problem.hidden = !text;
}

function play() {
  player.setAttribute('stream', streamChoice.value);
  player.setAttribute('camera', cameraChoice.value);
}

async function showViewer() {
  const { cameras: list } = await cameras();
  cameraChoice.replaceChildren(
    ...list.map((/** @type {{id: string, name: string}} */ c) => new Option(c.name, c.id)),
  );
  const wanted = new URLSearchParams(location.hash.slice(1));
  cameraChoice.value = wanted.get('camera') ?? cameraChoice.value;
  streamChoice.value = wanted.get('stream') ?? 'main';
  const time = wanted.get('time');
  if (time) player.setAttribute('time', time);
  form.hidden = true;
  viewer.hidden = false;
  say(list.length ? '' : 'no cameras to show');
  play();
}

async function start() {
  try {
    await me();
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    if (error.status === 401) form.hidden = false;
    say(error.status === 401 ? '' : error.message);
    return;
  }
  await showViewer();
}

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  const fields = new FormData(form);
  try {
    await login(String(fields.get('name')), String(fields.get('password')));
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    say(error.message);
    return;
  }
  await showViewer();
});
cameraChoice.addEventListener('change', play);
streamChoice.addEventListener('change', play);
for (const [id, action] of Object.entries(BUTTONS)) {
  document.querySelector(`#${id}`)?.addEventListener('click', action);
}
// The time showing, as the video plays.
setInterval(() => {
  const timeMs = player.timeMs;
  clock.value = timeMs === null ? 'live' : new Date(timeMs).toLocaleString();
}, 250);

start();
