// The audit trail view: who did what, when, from where, on every server of the system,
// newest first, filtered by user, action and time; more pages on demand; the entries the
// filters select saved as CSV.

import { call } from './api.js';
import { attempt, byId, h } from './dom.js';

const PAGE = 100;
const MAX_CSV_ENTRIES = 10_000;

/** @typedef {{server_id: string, id: number, time_ms: number, user_name: string,
 *             address: string, action: string, target: string | null,
 *             details: Record<string, unknown> | null}} Entry */

const form = /** @type {HTMLFormElement} */ (byId('audit-filters'));
/** @type {string | null} */ let nextBefore = null;

/** The query the filters make (empty fields left out). */
function filters() {
  const query = new URLSearchParams();
  const fields = new FormData(form);
  for (const name of ['user', 'action']) {
    const value = String(fields.get(name) ?? '').trim();
    if (value) query.set(name, value);
  }
  for (const name of ['from', 'to']) {
    const value = String(fields.get(name) ?? '');
    if (value) query.set(`${name}_ms`, String(new Date(value).getTime())); // local time
  }
  return query;
}

/** A page of entries: the first (`more` false) or the next. */
async function page(/** @type {boolean} */ more) {
  const query = filters();
  query.set('limit', String(PAGE));
  if (more && nextBefore) query.set('before', nextBefore);
  /** @type {any} */ let found = null;
  if (!(await attempt(async () => { found = await call('GET', `/audit?${query}`); }))) return;
  nextBefore = found.next_before;
  const rows = found.entries.map((/** @type {Entry} */ e) => h('tr', { 'data-action': e.action },
    h('td', {}, new Date(e.time_ms).toLocaleString()), h('td', {}, e.user_name), h('td', {}, e.address),
    h('td', {}, e.action), h('td', {}, e.target ?? ''), h('td', { class: 'details' }, e.details ? JSON.stringify(e.details) : '')));
  const body = byId('audit-rows');
  if (more) body.append(...rows);
  else body.replaceChildren(...rows);
  if (!body.children.length) body.append(h('tr', {}, h('td', { colspan: '6', class: 'muted' }, 'No entries match.')));
  byId('audit-more').hidden = !nextBefore;
  byId('audit-partial').hidden = !found.partial;
  byId('audit-partial').textContent = found.partial
    ? `Some servers did not answer (${found.missing_servers.join(', ')}): their entries are missing.`
    : '';
}

/** Every entry the filters select (up to MAX_CSV_ENTRIES), as a CSV file to save. */
async function saveCsv() {
  const query = filters();
  query.set('limit', '1000');
  /** @type {Entry[]} */ const entries = [];
  /** @type {string | null} */ let before = null;
  do {
    if (before) query.set('before', before);
    /** @type {any} */ let found = null;
    if (!(await attempt(async () => { found = await call('GET', `/audit?${query}`); }))) return;
    entries.push(...found.entries);
    before = found.next_before;
  } while (before && entries.length < MAX_CSV_ENTRIES);
  const header = ['time', 'user', 'address', 'action', 'target', 'details', 'server'];
  const lines = entries.map((e) => [new Date(e.time_ms).toISOString(), e.user_name, e.address, e.action,
    e.target ?? '', e.details ? JSON.stringify(e.details) : '', e.server_id]);
  const csv = [header, ...lines].map((cells) => cells.map(csvCell).join(',')).join('\r\n');
  const link = h('a', { href: URL.createObjectURL(new Blob([csv], { type: 'text/csv' })), download: 'audit.csv' });
  link.click();
  setTimeout(() => URL.revokeObjectURL(/** @type {HTMLAnchorElement} */ (link).href), 60_000);
}

/** A CSV field (RFC 4180), with a formula's first character defused for spreadsheets. */
function csvCell(/** @type {string} */ text) {
  const safe = /^[=+\-@]/.test(text) ? `'${text}` : text;
  return /[",\r\n]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}

form.addEventListener('submit', (event) => {
  event.preventDefault();
  page(false);
});
byId('audit-more').addEventListener('click', () => page(true));
byId('audit-csv').addEventListener('click', () => saveCsv());

/** Show the view: the newest entries, as the filters say. */
export async function showAudit() {
  await page(false);
}
