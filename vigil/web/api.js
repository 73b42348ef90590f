// The server's REST API (docs/api.md) as the browser calls it: the session is the HTTP-only
// cookie that logging in sets, sent with every request to this server.

export class ApiError extends Error {
  /**
   * @param {number} status
   * @param {{code: string, message: string, field?: string}} error  the answer's `error`
   */
  constructor(status, error) {
    super(error.message);
    this.status = status;
    this.code = error.code;
    this.field = error.field ?? null;
  }
}

/**
 * @param {string} method
 * @param {string} path  under /api/v1
 * @param {unknown} [body]  sent as JSON
 * @returns {Promise<any>} the answer's JSON, null for none; an ApiError when the server
 *   refuses or cannot be reached (status 0)
 */
export async function call(method, path, body) {
  let response;
  try {
    response = await fetch(`/api/v1${path}`, {
      method,
      headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, { code: 'server_unreachable', message: 'the server cannot be reached' });
  }
  const answer = response.status === 204 ? null : await response.json();
  if (!response.ok) throw new ApiError(response.status, answer.error);
  return answer;
}

export const login = (
  /** @type {string} */ name,
  /** @type {string} */ password,
  remember = false,
) => call('POST', '/login', { name, password, remember });

export const logout = () => call('POST', '/logout');

export const me = () => call('GET', '/me');

/** This server: id, name, version, state (undefined or member), system. No login needed. */
export const server = () => call('GET', '/server');

/** The servers of the system, with their addresses, versions and whether online. */
export const servers = () => call('GET', '/system/servers');

export const createSystem = (/** @type {Record<string, string>} */ fields) =>
  call('POST', '/system', fields);

export const joinSystem = (/** @type {Record<string, string>} */ fields) =>
  call('POST', '/system/join', fields);

export const cameras = () => call('GET', '/cameras');
