// Settings, the cameras' part: the system's cameras with their state, added by their RTSP
// addresses or from what discovery finds on the network (by ONVIF), deleted. What the role
// may not do is not offered (the server refuses it anyway).

import { ApiError, call } from './api.js';
import { editCamera, showStreams } from './camera_edit.js';
import { attempt, byId, h, say } from './dom.js';

/** @typedef {{functions: string[], operations: string[]}} Rights */

let mayDelete = false;
let mayEdit = false;

/** Show the cameras' settings, as `rights` allow. */
export async function showSettings(/** @type {Rights} */ rights) {
  byId('add-camera').hidden = !rights.operations.includes('camera.add');
  mayDelete = rights.operations.includes('camera.delete');
  mayEdit = rights.operations.includes('camera.edit');
  await listCameras();
}

const REFRESH_MS = 5000; // the cameras' states again, while the view shows
/** @type {ReturnType<typeof setTimeout> | undefined} */ let refresh;

async function listCameras() {
  clearTimeout(refresh);
  const { cameras } = await call('GET', '/cameras');
  refresh = setTimeout(() => {
    if (!byId('settings-view').hidden && !byId('settings-cameras').hidden) attempt(listCameras);
  }, REFRESH_MS);
  for (const camera of cameras) showStreams(camera); // the one being edited, if any
  const rows = cameras
    .sort((/** @type {any} */ a, /** @type {any} */ b) => a.name.localeCompare(b.name, undefined, { numeric: true }))
    .map((/** @type {any} */ camera) => {
      const main = camera.streams.main;
      const state = camera.enabled ? main?.status.state ?? 'unknown' : 'disabled';
      return h(
        'tr',
        { 'data-camera': camera.id, 'data-state': state },
        h('td', {}, h('span', { class: 'dot' }), mayEdit
          ? h('button', { type: 'button', class: 'link edit', title: 'Edit the camera',
                          onclick: () => editCamera(camera, listCameras) }, camera.name)
          : camera.name),
        h('td', {}, state, main?.status.reason ? h('span', { class: 'muted' }, ` (${main.status.reason})`) : null),
        h('td', {}, main?.recording?.state ?? camera.recording.mode),
        h('td', {}, Object.keys(camera.streams).join(', ')),
        h('td', {}, camera.onvif_address ? 'ONVIF' : 'RTSP'),
        h('td', {}, mayDelete
          ? h('button', { type: 'button', class: 'delete', onclick: () => remove(camera) }, 'Delete')
          : null),
      );
    });
  byId('camera-rows').replaceChildren(
    ...(rows.length ? rows : [h('tr', {}, h('td', { colspan: '6', class: 'muted' }, 'No cameras yet.'))]),
  );
}

async function remove(/** @type {any} */ camera) {
  if (!confirm(`Delete the camera ${camera.name}? Its recordings stay until retention ends them.`)) return;
  if (await attempt(() => call('DELETE', `/cameras/${camera.id}`))) await listCameras();
}


/** A form's fields that are filled in (an empty one is left to the server's default). */
function filled(/** @type {HTMLFormElement} */ form) {
  return Object.fromEntries(
    [...new FormData(form)].filter(([, value]) => value !== '').map(([name, value]) => [name, String(value)]),
  );
}

const byUrl = /** @type {HTMLFormElement} */ (byId('add-by-url'));
byUrl.addEventListener('submit', async (event) => {
  event.preventDefault();
  const fields = filled(byUrl);
  if (await attempt(() => call('POST', '/cameras', fields))) {
    byUrl.reset();
    await listCameras();
  }
});

byId('discover').addEventListener('click', async () => {
  const list = byId('discovered');
  list.replaceChildren(h('li', { class: 'muted' }, 'Searching the network…'));
  /** @type {any} */ let found;
  try {
    found = await call('GET', '/cameras/discovery');
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    list.replaceChildren();
    say(error.message);
    return;
  }
  list.replaceChildren(
    ...found.devices.map((/** @type {any} */ device) => discoveredItem(device)),
    ...(found.devices.length ? [] : [h('li', { class: 'muted' }, 'No ONVIF device answered.')]),
  );
});

function discoveredItem(/** @type {any} */ device) {
  const address = device.onvif_addresses[0];
  const credentials = h(
    'form',
    { class: 'inline' },
    h('input', { name: 'username', placeholder: 'user', autocomplete: 'off', 'aria-label': 'user' }),
    h('input', { name: 'password', type: 'password', placeholder: 'password', autocomplete: 'off', 'aria-label': 'password' }),
    h('button', {}, 'Add'),
  );
  credentials.addEventListener('submit', async (event) => {
    event.preventDefault();
    const body = { onvif_address: address, ...filled(/** @type {HTMLFormElement} */ (credentials)) };
    if (await attempt(() => call('POST', '/cameras', body))) {
      credentials.replaceWith(h('span', { class: 'muted' }, 'added'));
      await listCameras();
    }
  });
  return h(
    'li',
    { 'data-address': address },
    h('strong', {}, device.name ?? 'ONVIF device'), ' ',
    h('span', { class: 'muted' }, `${device.hardware ?? ''} ${address}`), ' ',
    device.added ? h('span', { class: 'muted' }, 'already added') : credentials,
  );
}
