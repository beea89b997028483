// The dashboard shell: routes (history API), the one fleet-wide SSE stream shared by every page,
// the live indicator and the navigation badges. Pages other than the fleet load on demand.

import { api, openStream, takeTokenFromUrl } from './api.js';
import { h, fill, icon } from './ui.js';
import * as fleet from './fleet.js';

takeTokenFromUrl();

const routes = [
  [/^\/$/, () => Promise.resolve(fleet), 'fleet'],
  [/^\/instances\/([^/]+)$/, () => import('./instance.js'), 'fleet'],
  [/^\/attention$/, () => import('./attention.js'), 'attention'],
  [/^\/stats$/, () => import('./stats.js'), 'stats'],
  [/^\/notifications$/, () => import('./notifications.js'), 'notifications'],
];

// ---- events: one stream for the whole fleet; pages subscribe through ctx.on ----------------
const listeners = new Map();
function emit(name, data) {
  for (const fn of listeners.get(name) || []) {
    try {
      fn(data);
    } catch (e) {
      console.error(e);
    }
  }
}
function on(name, fn) {
  if (!listeners.has(name)) listeners.set(name, new Set());
  listeners.get(name).add(fn);
  return () => listeners.get(name).delete(fn);
}

const live = document.getElementById('live');
let wasOffline = false;
function showState(state) {
  live.className = 'live ' + state;
  live.textContent = state === 'live' ? 'Live' : state === 'connecting' ? 'Connecting…' : 'Reconnecting…';
  live.title = state === 'live' ? 'Receiving changes as they happen' : 'The event stream is not connected; data may be stale';
  if (state === 'offline') wasOffline = true;
  if (state === 'live' && wasOffline) {
    wasOffline = false;
    emit('resync', null);
  }
}
openStream({}, (name, data) => emit(name, data), showState);

// ---- navigation badges ---------------------------------------------------------------------
let badgeTimer = null;
async function refreshBadges() {
  try {
    const [stats, unread] = await Promise.all([api('/stats'), api('/notifications?unread=true&limit=1')]);
    setBadge('nav-attention', stats.needsAttention);
    setBadge('nav-unread', unread.unreadCount);
  } catch {
    // The page itself reports errors; badges just stay as they were.
  }
}
function setBadge(id, n) {
  const el = document.getElementById(id);
  el.textContent = n ? String(n) : '';
  el.hidden = !n;
}
function refreshBadgesSoon() {
  clearTimeout(badgeTimer);
  badgeTimer = setTimeout(refreshBadges, 1500);
}
on('notification', refreshBadgesSoon);
on('transition', refreshBadgesSoon);
on('resync', refreshBadgesSoon);
on('reset', refreshBadgesSoon);

// ---- routing -------------------------------------------------------------------------------
const main = document.getElementById('main');
let unmount = null;
let generation = 0;

async function route(focus) {
  const gen = ++generation;
  const path = location.pathname;
  let match = null;
  let loader = null;
  let section = '';
  for (const [re, load, nav] of routes) {
    match = path.match(re);
    if (match) {
      loader = load;
      section = nav;
      break;
    }
  }
  if (unmount) {
    unmount();
    unmount = null;
  }
  for (const a of document.querySelectorAll('nav.pages a')) {
    if (a.dataset.nav === section) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  if (!loader) {
    fill(main, h('section', { class: 'page' }, h('h1', null, 'Not found'), h('p', null, 'No dashboard page here. ', h('a', { href: '/' }, 'Back to the fleet'), '.')));
    return;
  }
  const page = await loader();
  if (gen !== generation) return;
  const offs = [];
  const ctx = {
    params: match.slice(1).map(decodeURIComponent),
    on: (name, fn) => offs.push(on(name, fn)),
    navigate,
    setTitle: (t) => (document.title = t ? `${t} · railwatch` : 'railwatch'),
  };
  fill(main);
  const pageUnmount = page.mount(main, ctx);
  unmount = () => {
    offs.forEach((off) => off());
    if (pageUnmount) pageUnmount();
  };
  if (focus) main.focus({ preventScroll: true });
}

/** Goes to `url` inside the dashboard (no reload). */
export function navigate(url, { replace = false } = {}) {
  const same = url === location.pathname + location.search;
  if (replace || same) history.replaceState(null, '', url);
  else history.pushState(null, '', url);
  route(!replace);
  if (!replace) window.scrollTo(0, 0);
}

document.addEventListener('click', (e) => {
  if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  const a = e.target.closest('a[href]');
  if (!a || a.target || a.hasAttribute('download')) return;
  const url = new URL(a.href);
  if (url.origin !== location.origin || url.pathname.startsWith('/api/')) return;
  e.preventDefault();
  navigate(url.pathname + url.search);
});
window.addEventListener('popstate', () => route(true));

document.querySelector('.brand').prepend(icon('logo', 'logo'));
route(false);
refreshBadges();
