// Small DOM helpers and the pieces every page shares: status pills, health dots with heartbeat
// ticks, progress bars, relative times. Text always goes in as text (never as HTML).

import { statusOf, HEALTH, ERROR_CLASS, duration, relative } from './format.js';

/** h('a', {href: '/', class: 'x', onclick: fn}, 'text', child, [more]) → Element. */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  if (attrs) {
    for (const [k, v] of Object.entries(attrs)) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'class') el.className = v;
      else if (k === 'style') el.style.cssText = v;
      else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
      else if (k === 'dataset') Object.assign(el.dataset, v);
      else if (k in el && typeof v !== 'string') el[k] = v;
      else el.setAttribute(k, v === true ? '' : v);
    }
  }
  append(el, children);
  return el;
}

/** Replaces el's children (skipping null / false, flattening arrays, unlike replaceChildren). */
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === undefined || c === null || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : String(c));
  }
}

const SVG = 'http://www.w3.org/2000/svg';

/** An icon from the sprite in index.html (#i-<name>). */
export function icon(name, cls = '') {
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('class', ('ic ' + cls).trim());
  svg.setAttribute('aria-hidden', 'true');
  const use = document.createElementNS(SVG, 'use');
  use.setAttribute('href', '#i-' + name);
  svg.append(use);
  return svg;
}

/** Status pill in Railway's words and colours, with an icon. */
export function statusPill(instance) {
  const s = statusOf(instance);
  return h('span', { class: `pill ${s.tone}`, dataset: { status: s.key } }, icon(s.icon, s.icon === 'spin' ? 'spin' : ''), s.label);
}

/** A pill for any tone/label pair (deliveries, attention kinds). */
export function pill(tone, iconName, label) {
  return h('span', { class: `pill ${tone}` }, icon(iconName, iconName === 'spin' ? 'spin' : ''), label);
}

/** Delivery state of an outbox row: pending, sent, failed (will retry), dead (gave up). */
export function deliveryPill(d) {
  const map = { sent: ['ok', 'check', 'Delivered'], pending: ['warn', 'clock', 'Pending'], failed: ['bad', 'cross', 'Retrying'], dead: ['bad', 'cross', 'Gave up'] };
  const [tone, ic, label] = map[d.status] || ['muted', 'dot', d.status];
  return pill(tone, ic, label);
}

export function errorChip(errorType) {
  if (!errorType) return h('span', { class: 'muted' }, '—');
  return h('span', { class: 'chip', dataset: { error: errorType } }, ERROR_CLASS[errorType] || errorType);
}

/** Health dot + word; the ticks (last checks, oldest first) when given. */
export function healthCell(health, checks) {
  const info = HEALTH[health] || HEALTH.UNKNOWN;
  const cell = h('span', { class: 'health' }, h('span', { class: `dot ${info.tone}`, 'aria-hidden': 'true' }), h('span', { class: 'hlabel' }, info.label));
  if (checks && checks.length) cell.append(ticks(checks));
  return cell;
}

/** Heartbeat bar: one tick per check, green up, red down; the newest on the right. */
export function ticks(checks, max = 20) {
  const recent = checks.slice(-max);
  const down = recent.filter((c) => !c.ok).length;
  const bar = h('span', { class: 'ticks', role: 'img', 'aria-label': `last ${recent.length} checks: ${recent.length - down} up, ${down} down` });
  for (let i = recent.length; i < max; i++) bar.append(h('i', { class: 'none' }));
  for (const c of recent) {
    const what = c.ok ? `up${c.latencyMs != null ? ', ' + Math.round(c.latencyMs) + ' ms' : ''}` : `down${c.error ? ': ' + c.error : ''}`;
    bar.append(h('i', { class: c.ok ? 'ok' : 'bad', title: `${c.at} — ${what}` }));
  }
  return bar;
}

/** Progress bar with phase and ETA; finished instances show their outcome instead. */
export function progressCell(instance) {
  const pct = Math.max(0, Math.min(100, Number(instance.progress) || 0));
  const s = statusOf(instance);
  const inFlight = instance.status === 'INITIALIZING' || instance.status === 'DEPLOYING';
  const phase = instance.phase || (inFlight ? s.label.toLowerCase() : '');
  const eta = inFlight && instance.etaSeconds != null ? 'ETA ' + duration(instance.etaSeconds) : '';
  const label = inFlight ? [phase, Math.round(pct) + '%', eta].filter(Boolean).join(' · ') : phase || s.label.toLowerCase();
  return h(
    'div',
    { class: `progress ${s.tone}${inFlight ? ' moving' : ''}` },
    h('div', { class: 'track', role: 'progressbar', 'aria-valuemin': '0', 'aria-valuemax': '100', 'aria-valuenow': String(Math.round(pct)), 'aria-label': 'progress' }, h('div', { class: 'fill', style: `width:${pct}%` })),
    h('span', { class: 'plabel' }, label),
  );
}

/** <time> with relative text and the RFC 3339 instant on hover; kept fresh by the ticker. */
export function timeEl(iso, prefix = '') {
  if (!iso) return h('span', { class: 'muted' }, '—');
  return h('time', { datetime: iso, title: iso, dataset: { rel: prefix } }, prefix + relative(iso));
}

/** A duration that keeps counting while `toIso` is null (still running). */
export function durationEl(fromIso, toIso) {
  if (!fromIso) return h('span', { class: 'muted' }, '—');
  const el = h('span', { class: 'dur', title: `${fromIso} → ${toIso || 'now'}` });
  el.dataset.from = fromIso;
  if (toIso) el.dataset.to = toIso;
  el.textContent = duration(((toIso ? Date.parse(toIso) : Date.now()) - Date.parse(fromIso)) / 1000);
  return el;
}

// Relative times and running durations are refreshed together, every 5 s.
setInterval(() => {
  const now = Date.now();
  for (const el of document.querySelectorAll('time[data-rel]')) el.textContent = el.dataset.rel + relative(el.getAttribute('datetime'), now);
  for (const el of document.querySelectorAll('.dur[data-from]:not([data-to])')) el.textContent = duration((now - Date.parse(el.dataset.from)) / 1000);
}, 5000);

/** Briefly highlights an element that changed (respects prefers-reduced-motion via CSS). */
export function flash(el) {
  el.classList.remove('flash');
  void el.offsetWidth;
  el.classList.add('flash');
}

/** A message at the bottom of the screen, for the outcome of an action. */
export function toast(text, tone = 'ok') {
  let box = document.getElementById('toasts');
  if (!box) {
    box = h('div', { id: 'toasts', role: 'status', 'aria-live': 'polite' });
    document.body.append(box);
  }
  const t = h('div', { class: `toast ${tone}` }, text);
  box.append(t);
  setTimeout(() => t.remove(), 5000);
}

/** Asks before doing something that cannot be undone; resolves to true when confirmed. */
export function confirmDialog(title, text, confirmLabel) {
  return new Promise((resolve) => {
    const cancel = h('button', { type: 'button', value: 'cancel' }, 'Cancel');
    const ok = h('button', { class: 'primary', value: 'ok' }, confirmLabel);
    const dialog = h('dialog', { class: 'confirm', 'aria-labelledby': 'confirm-title' }, h('form', { method: 'dialog' }, h('h2', { id: 'confirm-title' }, title), h('p', null, text), h('div', { class: 'buttons' }, cancel, ok)));
    cancel.addEventListener('click', () => dialog.close('cancel'));
    dialog.addEventListener('close', () => {
      dialog.remove();
      resolve(dialog.returnValue === 'ok');
    });
    document.body.append(dialog);
    dialog.showModal();
    cancel.focus();
  });
}

/** A box saying what went wrong and what to do. */
export function errorBox(err, retry) {
  const box = h('div', { class: 'error-box', role: 'alert' }, icon('alert'), h('div', null, h('strong', null, 'Could not load this page. '), err.message || String(err)));
  if (retry) box.append(h('button', { onclick: retry }, 'Try again'));
  return box;
}

/** Empty state for a list. */
export function empty(text) {
  return h('p', { class: 'empty' }, text);
}

export function link(href, ...children) {
  return h('a', { href }, ...children);
}
