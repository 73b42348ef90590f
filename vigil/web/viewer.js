// The camera view: one camera, its main or sub stream, live or from a time, with the playback
// controls (play at a speed, pause, a picture back or forward). `#camera=ID&stream=sub&time=MS`
// in the address opens it.

import { cameras } from './api.js';
import { byId, say } from './dom.js';
import './player.js';

const player = /** @type {import('./player.js').VideoPlayer} */ (
  document.querySelector('#viewer vigil-video')
);
const cameraChoice = /** @type {HTMLSelectElement} */ (byId('camera'));
const streamChoice = /** @type {HTMLSelectElement} */ (byId('stream'));
const when = /** @type {HTMLInputElement} */ (byId('when'));
const speed = /** @type {HTMLSelectElement} */ (byId('speed'));
const clock = /** @type {HTMLOutputElement} */ (byId('clock'));

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
for (const [id, action] of Object.entries(BUTTONS)) byId(id).addEventListener('click', action);
cameraChoice.addEventListener('change', play);
streamChoice.addEventListener('change', play);
// The time showing, as the video plays.
setInterval(() => {
  const timeMs = player.timeMs;
  clock.value = timeMs === null ? 'live' : new Date(timeMs).toLocaleString();
}, 250);

function play() {
  player.setAttribute('stream', streamChoice.value);
  player.setAttribute('camera', cameraChoice.value);
}

/** Show the view, with what the address asks for (`wanted`). */
export async function showViewer(/** @type {URLSearchParams} */ wanted) {
  const { cameras: list } = await cameras();
  cameraChoice.replaceChildren(
    ...list.map((/** @type {{id: string, name: string}} */ c) => new Option(c.name, c.id)),
  );
  cameraChoice.value = wanted.get('camera') ?? cameraChoice.value;
  streamChoice.value = wanted.get('stream') ?? 'main';
  const time = wanted.get('time');
  if (time) player.setAttribute('time', time);
  say(list.length ? '' : 'no cameras to show');
  play();
}

/** Leave the view: its video stops. */
export function hideViewer() {
  player.removeAttribute('camera');
}
