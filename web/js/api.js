// The dashboard's only way to data: the REST API under /api/v1 and its SSE stream
// (docs/DASHBOARD.md). The API token, when the server wants one, is asked for once and kept in
// sessionStorage for the browser session; `/?token=…` fills it in and leaves the address bar.

const BASE = '/api/v1';
const TOKEN_KEY = 'railwatch.token';

/** An error answer of the API: `{error: {code, message}}` with its HTTP status. */
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export function takeTokenFromUrl() {
  const url = new URL(location.href);
  const token = url.searchParams.get('token');
  if (token === null) return;
  if (token) sessionStorage.setItem(TOKEN_KEY, token);
  url.searchParams.delete('token');
  history.replaceState(history.state, '', url.pathname + url.search + url.hash);
}

function token() {
  return sessionStorage.getItem(TOKEN_KEY) || '';
}

function headers(extra) {
  const h = { Accept: 'application/json', ...extra };
  const t = token();
  if (t) h.Authorization = 'Bearer ' + t;
  return h;
}

// One login form at a time; every request that got a 401 waits for it.
let loginPromise = null;

function askForToken(rejected) {
  if (loginPromise) return loginPromise;
  loginPromise = new Promise((resolve) => {
    const dialog = document.createElement('dialog');
    dialog.className = 'login';
    dialog.setAttribute('aria-labelledby', 'login-title');
    const form = document.createElement('form');
    form.method = 'dialog';
    const title = document.createElement('h2');
    title.id = 'login-title';
    title.textContent = 'API token';
    const help = document.createElement('p');
    help.className = 'muted';
    help.textContent = rejected
      ? 'The server rejected the token. Enter the value of RAILWATCH_API_TOKEN.'
      : 'This server requires its API token (RAILWATCH_API_TOKEN). It is kept for this browser session only.';
    const input = document.createElement('input');
    input.type = 'password';
    input.name = 'token';
    input.required = true;
    input.autocomplete = 'current-password';
    input.setAttribute('aria-label', 'API token');
    const button = document.createElement('button');
    button.className = 'primary';
    button.textContent = 'Sign in';
    form.append(title, help, input, button);
    dialog.append(form);
    dialog.addEventListener('cancel', (e) => e.preventDefault());
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      sessionStorage.setItem(TOKEN_KEY, input.value.trim());
      dialog.close();
      dialog.remove();
      loginPromise = null;
      resolve();
    });
    document.body.append(dialog);
    dialog.showModal();
    input.focus();
  });
  return loginPromise;
}

/**
 * Calls the API: `api('/instances?limit=100')`, `api('/instances/x/redeploy', {method: 'POST'})`.
 * Resolves to the parsed JSON (or null for an empty body); rejects with ApiError.
 */
export async function api(path, { method = 'GET', body, signal } = {}) {
  for (let attempt = 0; ; attempt++) {
    const init = { method, signal, headers: headers(body === undefined ? {} : { 'Content-Type': 'application/json' }) };
    if (body !== undefined) init.body = JSON.stringify(body);
    let res;
    try {
      res = await fetch(BASE + path, init);
    } catch (e) {
      if (e.name === 'AbortError') throw e;
      throw new ApiError(0, 'unreachable', 'The railwatch server does not answer. Is it running?');
    }
    if (res.status === 401 && attempt < 5) {
      await askForToken(attempt > 0 || token() !== '');
      continue;
    }
    const text = await res.text();
    let data = null;
    if (text) {
      try {
        data = JSON.parse(text);
      } catch {
        throw new ApiError(res.status, 'bad_response', `The server answered ${res.status} with something that is not JSON.`);
      }
    }
    if (!res.ok) {
      const err = (data && data.error) || {};
      throw new ApiError(res.status, err.code || 'http_' + res.status, err.message || `HTTP ${res.status}`);
    }
    return data;
  }
}

/** Builds a query string from an object, leaving out empty values. */
export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined || v === null || v === '' || v === false || (Array.isArray(v) && !v.length)) continue;
    q.set(k, Array.isArray(v) ? v.join(',') : String(v));
  }
  const s = q.toString();
  return s ? '?' + s : '';
}

/**
 * Follows GET /api/v1/stream (Server-Sent Events) with fetch, so that the token travels in the
 * Authorization header and never in a URL. Reconnects with backoff and Last-Event-ID.
 * `onEvent(name, data, id)` gets each event; `onState('live' | 'connecting' | 'offline')`.
 * Returns a function that closes the stream.
 */
export function openStream(params, onEvent, onState = () => {}) {
  let lastId = '';
  let closed = false;
  let controller = null;
  let delay = 1000;

  async function run() {
    while (!closed) {
      onState('connecting');
      controller = new AbortController();
      try {
        const h = headers({ Accept: 'text/event-stream' });
        if (lastId) h['Last-Event-ID'] = lastId;
        const res = await fetch(BASE + '/stream' + query(params), { headers: h, signal: controller.signal, cache: 'no-store' });
        if (res.status === 401) {
          await askForToken(token() !== '');
          continue;
        }
        if (!res.ok || !res.body) throw new Error('HTTP ' + res.status);
        onState('live');
        delay = 1000;
        await readEvents(res.body, (name, data, id) => {
          if (id) lastId = id;
          let parsed = null;
          try {
            parsed = data ? JSON.parse(data) : null;
          } catch {
            return;
          }
          onEvent(name, parsed, id);
        });
      } catch (e) {
        if (closed) return;
      }
      if (closed) return;
      onState('offline');
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 15000);
    }
  }

  run();
  return () => {
    closed = true;
    if (controller) controller.abort();
  };
}

// The text/event-stream format: `field: value` lines, events end at a blank line, `:` comments.
async function readEvents(body, dispatch) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  let name = '';
  let data = [];
  let id = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    let nl;
    while ((nl = buffer.search(/\r\n|\r|\n/)) >= 0) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + (buffer[nl] === '\r' && buffer[nl + 1] === '\n' ? 2 : 1));
      if (line === '') {
        if (data.length) dispatch(name || 'message', data.join('\n'), id);
        name = '';
        data = [];
        continue;
      }
      if (line[0] === ':') continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      let val = colon < 0 ? '' : line.slice(colon + 1);
      if (val[0] === ' ') val = val.slice(1);
      if (field === 'event') name = val;
      else if (field === 'data') data.push(val);
      else if (field === 'id') id = val;
    }
  }
}
