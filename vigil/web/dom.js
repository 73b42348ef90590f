// Building the page's elements in code: `h('button', {type: 'button'}, 'Save')`; saying
// what went wrong.

import { ApiError } from './api.js';

/**
 * @param {string} tag
 * @param {Record<string, string | boolean | ((event: any) => void)>} [attributes]  `on…`:
 *   a listener; true: a boolean attribute; false: left out
 * @param {...(Node | string | null | false)} children  null and false are left out
 * @returns {HTMLElement}
 */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (typeof value === 'function') element.addEventListener(name.slice(2), value);
    else if (value === true) element.setAttribute(name, '');
    else if (value !== false) element.setAttribute(name, value);
  }
  element.append(...children.filter((child) => child !== null && child !== false));
  return element;
}

/** The element with `id`, which the page must have. */
export function byId(/** @type {string} */ id) {
  const element = document.getElementById(id);
  if (!element) throw new Error(`the page has no #${id}`);
  return element;
}

/** The form's field `name` (an input, a select or a button: what the form says it is). */
export function field(/** @type {string} */ formId, /** @type {string} */ name) {
  const found = /** @type {HTMLFormElement} */ (byId(formId)).elements.namedItem(name);
  if (!found) throw new Error(`the form #${formId} has no field ${name}`);
  return /** @type {HTMLInputElement} */ (found);
}

/** Show a problem (an empty text hides it). */
export function say(/** @type {string} */ text) {
  const problem = byId('problem');
  problem.textContent = text;
  problem.hidden = !text;
}

/** Run an API call; a refusal is said on the page, naming the field (the lock-out's says
 * until when). Whether it succeeded. */
export async function attempt(/** @type {() => Promise<unknown>} */ action) {
  try {
    await action();
    say('');
    return true;
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    say(error.field ? `${error.field}: ${error.message}` : error.message);
    return false;
  }
}
