// Settings, users and roles: the system's users (role, enabled, a lock-out lifted, a new
// password, deleted) and roles, the built-in ones as they are and custom ones edited as a
// permission matrix: functions, operations by object (add, edit, delete), and the cameras
// and shared layouts the role reaches (all, or those ticked). What the role may not do is not
// offered (the server refuses it anyway).

import { call } from './api.js';
import { attempt, byId, field, h } from './dom.js';

/** @typedef {{functions: string[], operations: string[]}} Rights */

/** Objects whose operations the matrix shows as a row each, in this order. */
const OBJECTS = ['camera', 'layout', 'user', 'role', 'rule', 'list', 'storage', 'system'];
const ACTIONS = ['add', 'edit', 'delete'];

/** @type {Rights} */ let mine = { functions: [], operations: [] };
/** @type {any[]} */ let roles = [];
/** @type {string | null} */ let editing = null; // the custom role in the editor; null: a new one

/** Show the users and the roles, as `rights` allow. */
export async function showUsers(/** @type {Rights} */ rights) {
  mine = rights;
  const [{ users }, listed] = await Promise.all([call('GET', '/users'), call('GET', '/roles')]);
  roles = listed.roles;
  const may = (/** @type {string} */ op) => mine.operations.includes(op);
  byId('user-rows').replaceChildren(...users.map((/** @type {any} */ user) => userRow(user, may)));
  const roleChoice = field('add-user', 'role_id');
  roleChoice.replaceChildren(...assignable().map((role) => h('option', { value: role.id }, role.name)));
  byId('add-user').hidden = !may('user.add');
  byId('role-rows').replaceChildren(...roles.map((role) => roleRow(role, may)));
  byId('new-role').hidden = !may('role.add');
}

/** Roles a user may be given: every one but the owner's (one owner, made with the system). */
function assignable() {
  return roles.filter((role) => role.id !== 'owner');
}

function userRow(/** @type {any} */ user, /** @type {(op: string) => boolean} */ may) {
  const owner = user.role_id === 'owner';
  const editable = may('user.edit') && !owner;
  const role = roles.find((r) => r.id === user.role_id);
  const patch = (/** @type {Record<string, unknown>} */ body) =>
    attempt(() => call('PATCH', `/users/${user.id}`, body)).then(() => showUsers(mine));
  const password = h('input', { type: 'password', placeholder: 'new password', autocomplete: 'new-password', 'aria-label': 'new password' });
  return h(
    'tr',
    { 'data-user': user.id, 'data-state': user.enabled ? 'online' : 'disabled' },
    h('td', {}, h('span', { class: 'dot' }), user.name, user.full_name ? h('div', { class: 'muted' }, user.full_name) : null),
    h('td', {}, editable
      ? h('select', { class: 'role', 'aria-label': 'role', onchange: (/** @type {Event} */ e) =>
        patch({ role_id: /** @type {HTMLSelectElement} */ (e.target).value }) },
      ...assignable().map((r) => h('option', { value: r.id, selected: r.id === user.role_id }, r.name)))
      : role?.name ?? user.role_id),
    h('td', {},
      editable
        ? h('label', { class: 'check' }, h('input', { type: 'checkbox', class: 'enabled', checked: user.enabled,
          onchange: (/** @type {Event} */ e) => patch({ enabled: /** @type {HTMLInputElement} */ (e.target).checked }) }), ' enabled')
        : (user.enabled ? 'enabled' : 'disabled'),
      user.locked_until_ms
        ? h('div', { class: 'muted' }, `locked until ${new Date(user.locked_until_ms).toLocaleString()} `,
          editable ? h('button', { type: 'button', onclick: () => patch({ locked: false }) }, 'Unlock') : null)
        : null),
    h('td', {}, editable
      ? h('form', { class: 'inline', onsubmit: (/** @type {Event} */ e) => {
        e.preventDefault();
        patch({ password: /** @type {HTMLInputElement} */ (password).value });
      } }, password, h('button', {}, 'Set'))
      : null),
    h('td', {}, may('user.delete') && !owner
      ? h('button', { type: 'button', class: 'delete', onclick: () => removeUser(user) }, 'Delete')
      : null),
  );
}

async function removeUser(/** @type {any} */ user) {
  if (!confirm(`Delete the user ${user.name}? Their sessions end at once.`)) return;
  if (await attempt(() => call('DELETE', `/users/${user.id}`))) await showUsers(mine);
}

function roleRow(/** @type {any} */ role, /** @type {(op: string) => boolean} */ may) {
  const reach = (/** @type {'all' | string[]} */ ids) => (ids === 'all' ? 'all' : `${ids.length}`);
  return h(
    'tr',
    { 'data-role': role.id },
    h('td', {}, role.builtin || !may('role.edit') ? role.name
      : h('button', { type: 'button', class: 'link edit', onclick: () => editRole(role) }, role.name)),
    h('td', { class: 'muted' }, role.description),
    h('td', {}, role.functions.join(', ') || '—'),
    h('td', {}, role.operations.join(', ') || '—'),
    h('td', {}, `cameras: ${reach(role.resources.cameras)}, layouts: ${reach(role.resources.layouts)}`),
  );
}

/** The editor on `role` (null: a new role). */
async function editRole(/** @type {any} */ role) {
  editing = role?.id ?? null;
  const [catalogue, { cameras }, { layouts }] = await Promise.all([
    call('GET', '/rights'), call('GET', '/cameras'),
    mine.functions.includes('live_view') ? call('GET', '/layouts') : Promise.resolve({ layouts: [] }),
  ]);
  const has = (/** @type {string} */ kind, /** @type {string} */ name) => role?.[kind]?.includes(name) ?? false;
  const box = (/** @type {string} */ kind, /** @type {string} */ name, /** @type {boolean} */ on, /** @type {boolean} */ offered = true) =>
    h('input', { type: 'checkbox', 'data-kind': kind, value: name, checked: on, disabled: !offered, 'aria-label': `${kind} ${name}` });
  const functions = h('fieldset', {}, h('legend', {}, 'Functions'),
    ...catalogue.functions.map((/** @type {string} */ f) => h('label', { class: 'check' }, box('functions', f, has('functions', f)), ` ${f.replace('_', ' ')}`)));
  const operations = h('table', { class: 'matrix' },
    h('thead', {}, h('tr', {}, h('th', {}, 'Operations'), ...ACTIONS.map((a) => h('th', {}, a)))),
    h('tbody', {}, ...OBJECTS.map((object) => h('tr', {}, h('th', {}, object), ...ACTIONS.map((action) => {
      const name = `${object}.${action}`;
      return h('td', {}, catalogue.operations.includes(name) ? box('operations', name, has('operations', name)) : null);
    })))));
  const reached = (/** @type {string} */ kind, /** @type {{id: string, name: string}[]} */ items) => {
    const ids = role?.resources?.[kind] ?? [];
    const every = box(kind, 'all', ids === 'all');
    const list = h('div', { class: 'reach' }, ...items.map((item) =>
      h('label', { class: 'check' }, box(kind, item.id, ids === 'all' || ids.includes(item.id)), ` ${item.name}`)));
    every.addEventListener('change', () => { list.hidden = /** @type {HTMLInputElement} */ (every).checked; });
    list.hidden = ids === 'all';
    return h('fieldset', {}, h('legend', {}, kind === 'cameras' ? 'Cameras it reaches' : 'Shared layouts it reaches'),
      h('label', { class: 'check' }, every, ' all, and those added later'), list);
  };
  const shared = layouts.filter((/** @type {any} */ l) => l.shared);
  byId('role-matrix').replaceChildren(functions, operations, reached('cameras', cameras), reached('layouts', shared));
  field('role-form', 'name').value = role?.name ?? '';
  field('role-form', 'description').value = role?.description ?? '';
  byId('role-delete').hidden = !role || !mine.operations.includes('role.delete');
  byId('role-edit-name').textContent = role ? role.name : '(new)';
  byId('role-edit').hidden = false;
  byId('role-edit').scrollIntoView({ block: 'nearest' });
}

/** The role as the editor holds it, for POST or PATCH. */
function edited() {
  const form = /** @type {HTMLFormElement} */ (byId('role-form'));
  const ticked = (/** @type {string} */ kind) => [...form.querySelectorAll(`input[data-kind='${kind}']:checked`)]
    .map((input) => /** @type {HTMLInputElement} */ (input).value);
  const reach = (/** @type {string} */ kind) => (ticked(kind).includes('all') ? 'all' : ticked(kind));
  return {
    name: field('role-form', 'name').value,
    description: field('role-form', 'description').value,
    functions: ticked('functions'),
    operations: ticked('operations'),
    resources: { cameras: reach('cameras'), layouts: reach('layouts') },
  };
}

const roleForm = /** @type {HTMLFormElement} */ (byId('role-form'));
roleForm.addEventListener('submit', async (event) => {
  event.preventDefault();
  const body = edited();
  const done = await attempt(() => (editing ? call('PATCH', `/roles/${editing}`, body) : call('POST', '/roles', body)));
  if (done) {
    byId('role-edit').hidden = true;
    await showUsers(mine);
  }
});
byId('role-delete').addEventListener('click', async () => {
  if (!editing || !confirm('Delete this role? Users with it must be given another first.')) return;
  if (await attempt(() => call('DELETE', `/roles/${editing}`))) {
    byId('role-edit').hidden = true;
    await showUsers(mine);
  }
});
byId('new-role').addEventListener('click', () => attempt(() => editRole(null)));
byId('role-edit-close').addEventListener('click', () => { byId('role-edit').hidden = true; });

const addUser = /** @type {HTMLFormElement} */ (byId('add-user'));
addUser.addEventListener('submit', async (event) => {
  event.preventDefault();
  const fields = Object.fromEntries([...new FormData(addUser)].map(([k, v]) => [k, String(v)]));
  if (await attempt(() => call('POST', '/users', fields))) {
    addUser.reset();
    await showUsers(mine);
  }
});
