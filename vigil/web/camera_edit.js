// Settings, one camera: its addresses and credentials, transport, retention, recording mode
// and the weekly schedule grid, and how its streams fare (state, codec, size, rate, losses,
// viewers, recording). Saved with one PATCH of what the form holds; a password left empty
// stays as it was (answers never carry it).

import { call } from './api.js';
import { attempt, byId, field, h } from './dom.js';

const DAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];
const HOURS = 24;

/**
 * @typedef {'always' | 'event' | ''} CellMode  '' records nothing in that hour
 * @typedef {{days: number[], start: string, end: string, mode: 'always' | 'event'}} Slot
 */

/** @type {string | null} */ let editing = null;
/** @type {() => Promise<void>} */ let saved = async () => {};

/** The editor's field `name`. */
function input(/** @type {string} */ name) {
  return field('camera-form', name);
}

/** Open the editor on `camera`; `onSaved` runs after a save (the list shows the change). */
export function editCamera(/** @type {any} */ camera, /** @type {() => Promise<void>} */ onSaved) {
  editing = camera.id;
  saved = onSaved;
  byId('camera-edit-name').textContent = camera.name;
  input('name').value = camera.name;
  input('main_url').value = camera.streams.main?.url ?? '';
  input('sub_url').value = camera.streams.sub?.url ?? '';
  input('username').value = '';
  input('password').value = '';
  input('password').placeholder = camera.has_credentials ? 'unchanged' : 'password';
  input('transport').value = camera.transport;
  input('enabled').checked = camera.enabled;
  input('retention_days').value = camera.retention_days ?? '';
  const recording = camera.recording;
  input('mode').value = recording.mode;
  input('streams').value = recording.streams;
  input('pre_event_s').value = String(recording.pre_event_s);
  input('post_event_s').value = String(recording.post_event_s);
  drawSchedule(cellsOf(recording.schedule ?? []));
  showSchedule();
  showStreams(camera);
  byId('camera-edit').hidden = false;
  byId('camera-edit').scrollIntoView({ block: 'nearest' });
}

/** The streams' state and statistics, as the camera's server last said. */
export function showStreams(/** @type {any} */ camera) {
  if (camera.id !== editing) return;
  byId('camera-stream-rows').replaceChildren(
    ...Object.entries(camera.streams).map(([name, /** @type {any} */ stream]) => {
      const stats = stream.stats;
      return h(
        'tr',
        { 'data-stream': name, 'data-state': stream.status.state },
        h('td', {}, h('span', { class: 'dot' }), name),
        h('td', {}, stream.status.state, stream.status.reason ? h('span', { class: 'muted' }, ` (${stream.status.reason})`) : null),
        h('td', {}, stats ? `${stats.codec} ${stats.width}×${stats.height}` : '—'),
        h('td', {}, stats ? `${stats.fps ?? '?'} fps, ${stats.bitrate_kbps ?? '?'} kbit/s` : '—'),
        h('td', {}, stats ? `${stats.lost_packets} lost` : '—'),
        h('td', {}, stream.viewers === undefined || stream.viewers === null ? '—' : String(stream.viewers)),
        h('td', {}, stream.recording ? `${stream.recording.state}${stream.recording.reason ? ` (${stream.recording.reason})` : ''}` : '—'),
      );
    }),
  );
}

/** The weekly schedule as hour cells (7 days × 24): the mode each slot gives each hour. Slot
 * times between whole hours take the hours they touch. */
export function cellsOf(/** @type {Slot[]} */ slots) {
  /** @type {CellMode[][]} */ const cells = DAYS.map(() => Array(HOURS).fill(''));
  for (const slot of slots) {
    const from = minutes(slot.start) / 60;
    const to = minutes(slot.end) / 60;
    for (const day of slot.days) {
      for (let hour = Math.floor(from); hour < Math.ceil(to); hour += 1) cells[day][hour] = slot.mode;
    }
  }
  return cells;
}

/** Hour cells as the API's slots: each day's runs of one mode, days with the same run together. */
export function slotsOf(/** @type {CellMode[][]} */ cells) {
  /** @type {Map<string, Slot>} */ const slots = new Map();
  cells.forEach((hours, day) => {
    let hour = 0;
    while (hour < HOURS) {
      const mode = hours[hour];
      let end = hour + 1;
      while (end < HOURS && hours[end] === mode) end += 1;
      if (mode) {
        const key = `${hour}-${end}-${mode}`;
        const slot = slots.get(key) ?? { days: [], start: clock(hour), end: clock(end), mode };
        slot.days.push(day);
        slots.set(key, slot);
      }
      hour = end;
    }
  });
  return [...slots.values()];
}

function minutes(/** @type {string} */ time) {
  const [hours, mins] = time.split(':').map(Number);
  return hours * 60 + mins;
}

function clock(/** @type {number} */ hour) {
  return `${String(hour).padStart(2, '0')}:00`;
}

/** The grid: a row per day, a cell per hour; pressing and dragging paints the chosen mode. */
function drawSchedule(/** @type {CellMode[][]} */ cells) {
  let painting = false;
  const paint = (/** @type {HTMLElement} */ cell) => {
    const chosen = /** @type {HTMLInputElement | null} */ (document.querySelector('#schedule-paint input:checked'));
    cell.dataset.mode = chosen?.value ?? '';
  };
  const head = h('tr', {}, h('th', {}), ...Array.from({ length: HOURS }, (_, hour) => h('th', {}, hour % 3 ? '' : String(hour))));
  const rows = cells.map((hours, day) =>
    h('tr', {}, h('th', {}, DAYS[day]), ...hours.map((mode, hour) => {
      const cell = h('td', { 'data-day': String(day), 'data-hour': String(hour), 'data-mode': mode,
                            title: `${DAYS[day]} ${clock(hour)}–${clock(hour + 1)}` });
      cell.addEventListener('pointerdown', (event) => {
        event.preventDefault();
        painting = true;
        paint(cell);
      });
      cell.addEventListener('pointerenter', () => {
        if (painting) paint(cell);
      });
      return cell;
    })));
  const grid = byId('schedule-grid');
  grid.replaceChildren(h('thead', {}, head), h('tbody', {}, ...rows));
  document.addEventListener('pointerup', () => { painting = false; }, { once: true });
  grid.onpointerleave = () => { painting = false; };
}

function scheduleCells() {
  /** @type {CellMode[][]} */ const cells = DAYS.map(() => Array(HOURS).fill(''));
  for (const cell of /** @type {NodeListOf<HTMLElement>} */ (byId('schedule-grid').querySelectorAll('td[data-day]'))) {
    cells[Number(cell.dataset.day)][Number(cell.dataset.hour)] = /** @type {CellMode} */ (cell.dataset.mode ?? '');
  }
  return cells;
}

function showSchedule() {
  byId('schedule').hidden = input('mode').value !== 'schedule';
}

async function save() {
  if (!editing) return;
  const value = (/** @type {string} */ name) => input(name).value;
  const mode = value('mode');
  /** @type {Record<string, unknown>} */ const body = {
    name: value('name'),
    main_url: value('main_url'),
    sub_url: value('sub_url'),
    transport: value('transport'),
    enabled: input('enabled').checked,
    retention_days: value('retention_days') === '' ? 0 : Number(value('retention_days')),
    recording: {
      mode,
      streams: value('streams'),
      pre_event_s: Number(value('pre_event_s')),
      post_event_s: Number(value('post_event_s')),
      schedule: mode === 'schedule' ? slotsOf(scheduleCells()) : [],
    },
  };
  if (value('username')) body.username = value('username');
  if (value('password')) body.password = value('password');
  const camera = await call('PATCH', `/cameras/${encodeURIComponent(editing)}`, body);
  byId('camera-edit-name').textContent = camera.name;
  byId('camera-saved').hidden = false;
  setTimeout(() => { byId('camera-saved').hidden = true; }, 3000);
  await saved();
}

const form = /** @type {HTMLFormElement} */ (byId('camera-form'));
form.addEventListener('submit', (event) => {
  event.preventDefault();
  attempt(save);
});
input('mode').addEventListener('change', showSchedule);
byId('camera-edit-close').addEventListener('click', () => {
  editing = null;
  byId('camera-edit').hidden = true;
});
