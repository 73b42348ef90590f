// The PTZ panel of the live view, for the selected tile's camera when it offers PTZ and the
// role has `ptz`: a pad (held: the camera moves; let go: it stops), zoom, the presets (go to
// one, save the position as one).

import { call } from './api.js';
import { attempt, byId, h } from './dom.js';

const SPEED = 0.5; // of the camera's fastest
const MOVE_MS = 1000; // each move request's own end, renewed while the button is held
const RENEW_MS = 500;
// The pad: a label and the velocity it asks (pan right, tilt up).
const PAD = [
  ['↖', -1, 1], ['↑', 0, 1], ['↗', 1, 1],
  ['←', -1, 0], ['■', 0, 0], ['→', 1, 0],
  ['↙', -1, -1], ['↓', 0, -1], ['↘', 1, -1],
];

/** @type {string | null} */ let cameraId = null;

/** Show the panel for `camera` (null, or a camera without PTZ: hidden). */
export async function showPtz(/** @type {{id: string, name: string, ptz: boolean} | null} */ camera) {
  const panel = byId('ptz');
  panel.hidden = !camera?.ptz;
  if (!camera?.ptz || camera.id === cameraId) return;
  cameraId = camera.id;
  byId('ptz-name').textContent = camera.name;
  await listPresets();
}

const path = (/** @type {string} */ rest) => `/cameras/${encodeURIComponent(cameraId ?? '')}/ptz${rest}`;

/** While a button is held, the camera moves at `velocity` (renewed: a lost release stops it). */
function holdToMove(/** @type {HTMLElement} */ button, /** @type {{pan?: number, tilt?: number, zoom?: number}} */ velocity) {
  /** @type {ReturnType<typeof setInterval> | undefined} */ let timer;
  const move = () => attempt(() => call('POST', path('/move'), { ...velocity, timeout_ms: MOVE_MS }));
  const stop = () => {
    if (timer === undefined) return;
    clearInterval(timer);
    timer = undefined;
    attempt(() => call('POST', path('/stop')));
  };
  button.addEventListener('pointerdown', () => {
    move();
    timer = setInterval(move, RENEW_MS);
  });
  button.addEventListener('pointerup', stop);
  button.addEventListener('pointerleave', stop);
}

async function listPresets() {
  /** @type {any} */ let found = { presets: [] };
  await attempt(async () => { found = await call('GET', path('/presets')); });
  byId('ptz-presets').replaceChildren(
    ...found.presets.map((/** @type {{token: string, name: string}} */ preset) =>
      h('li', {}, h('button', { type: 'button', 'data-token': preset.token,
        onclick: () => attempt(() => call('POST', path(`/presets/${encodeURIComponent(preset.token)}/go`))) }, preset.name))),
  );
}

byId('ptz-pad').replaceChildren(
  ...PAD.map(([label, pan, tilt]) => {
    const button = h('button', { type: 'button', 'aria-label': `move ${label}` }, String(label));
    if (pan || tilt) holdToMove(button, { pan: Number(pan) * SPEED, tilt: Number(tilt) * SPEED });
    else button.addEventListener('click', () => attempt(() => call('POST', path('/stop'))));
    return button;
  }),
);
holdToMove(byId('ptz-zoom-in'), { zoom: SPEED });
holdToMove(byId('ptz-zoom-out'), { zoom: -SPEED });
const save = /** @type {HTMLFormElement} */ (byId('ptz-save'));
save.addEventListener('submit', async (event) => {
  event.preventDefault();
  const name = String(new FormData(save).get('name') ?? '').trim();
  if (name && (await attempt(() => call('POST', path('/presets'), { name })))) {
    save.reset();
    await listPresets();
  }
});
