// Settings, the storages' and the servers' parts: each storage's health and how full it is,
// with what each camera takes of it, added, enabled or not, its reserve, its index made
// again, removed; the system's servers (online since when, cameras, load), failover
// settings, hiding an offline server or detaching one (the owner), and the conflict log.

import { call } from './api.js';
import { attempt, byId, field, h } from './dom.js';

const MIB = 1024 * 1024;

/** @type {{operations: string[]}} */ let storageRights = { operations: [] };

/** Show the storages, every server's, and what `rights` allow doing with them. */
export async function showStorages(/** @type {{operations: string[]}} */ rights) {
  storageRights = rights;
  const [{ storages, partial, missing_servers: missing }, { cameras }] = await Promise.all([
    call('GET', '/storages'), call('GET', '/cameras'),
  ]);
  const mayEdit = rights.operations.includes('storage.edit');
  byId('add-storage').hidden = !mayEdit;
  const names = new Map(cameras.map((/** @type {any} */ c) => [c.id, c.name]));
  byId('storage-rows').replaceChildren(
    ...storages.map((/** @type {any} */ s) => {
      const total = s.total_bytes ?? 0;
      const used = total ? total - (s.free_bytes ?? 0) : 0;
      const share = (/** @type {number} */ bytes) => `${total ? Math.min(100, (bytes / total) * 100) : 0}%`;
      const perCamera = Object.entries(/** @type {Record<string, number>} */ (s.cameras))
        .sort(([, a], [, b]) => b - a)
        .map(([id, bytes]) => `${names.get(id) ?? id} ${gib(bytes)}`);
      return h('tr', { 'data-storage': s.id, 'data-state': s.status.state },
        h('td', {}, h('span', { class: 'dot' }), s.name, h('div', { class: 'muted' }, s.path)),
        h('td', {}, s.status.state, s.status.reason ? h('div', { class: 'muted' }, s.status.reason) : null),
        h('td', { class: 'usage' },
          h('div', { class: 'meter', title: `${gib(used)} used of ${gib(total)}` },
            h('span', { class: 'used', style: `width:${share(used)}` }),
            h('span', { class: 'recorded', style: `width:${share(s.recorded_bytes)}` })),
          h('div', { class: 'muted' }, total
            ? `${gib(s.recorded_bytes)} recorded, ${gib(s.free_bytes ?? 0)} free of ${gib(total)}`
            : 'size not known yet')),
        h('td', { class: 'muted' }, perCamera.join(', ') || 'nothing recorded'),
        h('td', {}, s.write_latency_ms === null ? '' : `${s.write_latency_ms.toFixed(1)} ms`),
        h('td', {}, mayEdit ? storageControls(s) : null),
      );
    }),
  );
  byId('storages-partial').hidden = !partial;
  byId('storages-partial').textContent = partial ? `Servers that did not answer: ${missing.join(', ')}` : '';
}

function storageControls(/** @type {any} */ storage) {
  const change = (/** @type {Record<string, unknown>} */ body) =>
    attempt(() => call('PATCH', `/storages/${storage.id}`, body)).then(() => showStorages(storageRights));
  const reserve = h('input', { type: 'number', min: '0', class: 'reserve', 'aria-label': 'reserve (MiB)',
                               placeholder: 'auto', value: storage.reserve_mib === null ? '' : String(storage.reserve_mib) });
  const rebuilt = h('span', { class: 'muted rebuilt' });
  return h('div', { class: 'controls' },
    h('label', { class: 'check' }, h('input', { type: 'checkbox', class: 'enabled', checked: storage.enabled,
      onchange: (/** @type {Event} */ e) => change({ enabled: /** @type {HTMLInputElement} */ (e.target).checked }) }), ' enabled'),
    h('form', { class: 'inline', onsubmit: (/** @type {Event} */ e) => {
      e.preventDefault();
      const mib = /** @type {HTMLInputElement} */ (reserve).value;
      change({ reserve_mib: mib === '' ? 'auto' : Number(mib) });
    } }, 'reserve', reserve, 'MiB', h('button', {}, 'Set')),
    h('button', { type: 'button', title: 'Read its files again into the index', onclick: () => attempt(async () => {
      rebuilt.textContent = ' reading its files…';
      const done = await call('POST', `/storages/${storage.id}/rebuild`);
      rebuilt.textContent = ` index made again: ${done.added} added, ${done.removed} removed, ${done.recovered} recovered`;
    }) }, 'Rebuild index'), rebuilt,
    h('button', { type: 'button', class: 'delete', onclick: async () => {
      if (!confirm(`Remove the storage ${storage.name}? Its recordings stay on the disk; adding the folder again brings them back.`)) return;
      if (await attempt(() => call('DELETE', `/storages/${storage.id}`))) await showStorages(storageRights);
    } }, 'Remove'));
}

const addStorage = /** @type {HTMLFormElement} */ (byId('add-storage'));
addStorage.addEventListener('submit', async (event) => {
  event.preventDefault();
  const fields = new FormData(addStorage);
  const mib = String(fields.get('reserve_mib') ?? '');
  const body = { name: fields.get('name'), path: fields.get('path'), ...(mib === '' ? {} : { reserve_mib: Number(mib) }) };
  if (await attempt(() => call('POST', '/storages', body))) {
    addStorage.reset();
    await showStorages(storageRights);
  }
});

/**
 * Show the servers and the failover settings, as the role allows.
 * @param {{operations: string[]}} rights
 * @param {boolean} owner  only the owner detaches a server
 */
export async function showServers(rights, owner) {
  const system = await call('GET', '/system');
  const mayEdit = rights.operations.includes('system.edit');
  byId('server-rows').replaceChildren(
    ...system.servers.map((/** @type {any} */ s) =>
      h('tr', { 'data-server': s.id, 'data-state': s.online ? 'online' : 'offline' },
        h('td', {}, h('span', { class: 'dot' }), s.name, s.connected ? h('span', { class: 'mark', title: 'this page talks to it' }, ' ★') : null),
        h('td', {}, s.addresses.join(', ')),
        h('td', {}, s.version),
        h('td', {}, `${s.online ? 'online' : 'offline'} since ${new Date(s.since_ms).toLocaleString()}`),
        h('td', {}, s.cameras === null ? '' : `${s.cameras_online ?? 0} of ${s.cameras} online`),
        h('td', {}, s.load === null ? '' : `${Math.round(s.load * 100)} %`),
        h('td', {},
          mayEdit && !s.online ? h('button', { type: 'button', class: 'hide', onclick: () => hide(s, rights, owner) }, 'Delete') : null,
          owner && !s.connected ? h('button', { type: 'button', class: 'detach', onclick: () => detach(s, rights, owner) }, 'Detach…') : null),
      )),
  );
  const form = /** @type {HTMLFormElement} */ (byId('failover-settings'));
  form.hidden = !mayEdit;
  field('failover-settings', 'failover_after_s').value = String(system.failover_after_s);
  field('failover-settings', 'failback').checked = system.failback;
  const { conflicts } = await call('GET', '/system/conflicts?limit=50');
  const named = new Map(system.servers.map((/** @type {any} */ s) => [s.id, s.name]));
  const value = (/** @type {unknown} */ v) => h('code', {}, v === null ? '(deleted)' : JSON.stringify(v));
  byId('conflict-rows').replaceChildren(
    ...conflicts.map((/** @type {any} */ c) => h('tr', {},
      h('td', {}, new Date(c.at_ms).toLocaleString()),
      h('td', {}, `${c.kind} ${c.record_id}`),
      h('td', {}, c.field || '(the whole record)'),
      h('td', {}, value(c.overwritten)),
      h('td', {}, value(c.kept)),
      h('td', {}, named.get(c.server_id) ?? c.server_id))),
    ...(conflicts.length ? [] : [h('tr', {}, h('td', { colspan: '6', class: 'muted' }, 'None.'))]),
  );
}

async function hide(/** @type {any} */ server, /** @type {{operations: string[]}} */ rights, /** @type {boolean} */ owner) {
  if (!confirm(`Delete ${server.name} from the list? It shows again if it comes back online.`)) return;
  if (await attempt(() => call('DELETE', `/system/servers/${server.id}`))) await showServers(rights, owner);
}

async function detach(/** @type {any} */ server, /** @type {{operations: string[]}} */ rights, /** @type {boolean} */ owner) {
  const keep = confirm(`Detach ${server.name}: it leaves the system and forgets it (its recordings stay on its disks).\n\n` +
    'OK: keep its cameras (given to the other servers). Cancel: choose again.');
  if (!keep && !confirm(`Detach ${server.name} and remove its cameras from the system?`)) return;
  const body = { cameras: keep ? 'keep' : 'remove' };
  if (await attempt(() => call('POST', `/system/servers/${server.id}/detach`, body))) await showServers(rights, owner);
}

const failover = /** @type {HTMLFormElement} */ (byId('failover-settings'));
failover.addEventListener('submit', async (event) => {
  event.preventDefault();
  const fields = new FormData(failover);
  await attempt(() => call('PATCH', '/system', {
    failover_after_s: Number(fields.get('failover_after_s')), failback: fields.get('failback') === 'on',
  }));
});

function gib(/** @type {number} */ bytes) {
  return bytes >= 1024 * MIB ? `${(bytes / 1024 / MIB).toFixed(1)} GiB` : `${Math.round(bytes / MIB)} MiB`;
}
