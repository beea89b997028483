// Notifications (`/notifications`): the in-app inbox (unread first) and the deliveries
// (channel, status, attempts, last error, replay). Tab and status filter are kept in the URL.
//
// API: GET /notifications, POST /notifications/{id}/read, GET /deliveries?status=,
// POST /deliveries/{id}/replay; events `notification`, `delivery` (docs/DASHBOARD.md).

import { api, query } from './api.js';
import { h, fill, deliveryPill, timeEl, flash, toast, errorBox, empty } from './ui.js';
import { number, titleCase } from './format.js';

const STATUSES = [['', 'All'], ['pending', 'Pending'], ['sent', 'Delivered'], ['failed', 'Retrying'], ['dead', 'Gave up']];

export function mount(main, ctx) {
  ctx.setTitle('Notifications');
  const params = new URLSearchParams(location.search);
  let tab = params.get('tab') === 'deliveries' ? 'deliveries' : 'inbox';
  let status = params.get('status') || '';
  let inbox = [];
  let deliveries = [];
  let nextCursor = null;

  const tabs = h('div', { class: 'tabs', role: 'tablist', 'aria-label': 'Notifications' });
  const body = h('div', { role: 'tabpanel' });
  main.append(h('section', { class: 'page notifications' }, h('div', { class: 'page-head' }, h('h1', null, 'Notifications'), tabs), body));

  function setUrl() {
    history.replaceState(null, '', '/notifications' + query({ tab: tab === 'inbox' ? '' : tab, status: tab === 'deliveries' ? status : '' }));
  }

  function renderTabs() {
    const unread = inbox.filter((n) => !n.readAt).length;
    fill(tabs, 
      ...[
        ['inbox', 'Inbox', unread],
        ['deliveries', 'Deliveries', 0],
      ].map(([k, label, n]) =>
        h(
          'button',
          {
            role: 'tab',
            'aria-selected': String(k === tab),
            onclick: () => {
              tab = k;
              setUrl();
              renderTabs();
              load();
            },
          },
          label,
          n ? h('span', { class: 'count' }, number(n)) : null,
        ),
      ),
    );
  }

  async function load() {
    fill(body, h('p', { class: 'loading' }, 'Loading…'));
    try {
      if (tab === 'inbox') {
        inbox = (await api('/notifications?limit=200')).items || [];
        renderInbox();
      } else {
        const res = await api('/deliveries' + query({ status, limit: 100 }));
        deliveries = res.items || [];
        nextCursor = res.nextCursor;
        renderDeliveries();
      }
      renderTabs();
    } catch (e) {
      fill(body, errorBox(e, load));
    }
  }

  // ---- inbox ----
  function sortInbox() {
    inbox.sort((a, b) => (!a.readAt === !b.readAt ? Date.parse(b.createdAt) - Date.parse(a.createdAt) : a.readAt ? 1 : -1));
  }

  function renderInbox() {
    sortInbox();
    fill(body, inbox.length ? h('ul', { class: 'inbox' }, inbox.map(inboxItem)) : empty('No notifications. railwatch writes here when a deployment fails, gets stuck or needs a person.'));
  }

  function inboxItem(n) {
    const li = h(
      'li',
      { class: n.readAt ? 'read' : 'unread', dataset: { id: n.id } },
      h('span', { class: 'udot', 'aria-hidden': 'true' }),
      h('div', { class: 'ibody' }, h('div', null, h('strong', null, n.title), n.readAt ? null : h('span', { class: 'visually-hidden' }, ' (unread)')), n.message ? h('p', null, n.message) : null, h('div', { class: 'sub' }, timeEl(n.createdAt), n.type ? ' · ' + titleCase(n.type) : '', n.instanceId ? [' · ', h('a', { href: '/instances/' + encodeURIComponent(n.instanceId) }, 'open instance')] : null)),
      n.readAt ? null : h('button', { onclick: () => markRead(n) }, 'Mark read'),
    );
    return li;
  }

  async function markRead(n) {
    try {
      await api('/notifications/' + encodeURIComponent(n.id) + '/read', { method: 'POST' });
      n.readAt = new Date().toISOString();
      renderInbox();
      renderTabs();
    } catch (e) {
      toast('Could not mark it read: ' + e.message, 'bad');
    }
  }

  // ---- deliveries ----
  function renderDeliveries() {
    const select = h(
      'select',
      {
        'aria-label': 'Delivery status',
        onchange: (e) => {
          status = e.target.value;
          setUrl();
          load();
        },
      },
      STATUSES.map(([v, label]) => h('option', { value: v, selected: v === status }, label)),
    );
    const tbody = h('tbody', null, deliveries.map(deliveryRow));
    fill(body, 
      h('div', { class: 'toolbar' }, h('label', { class: 'inline' }, 'Status ', select), h('span', { class: 'muted' }, `${number(deliveries.length)} shown${nextCursor ? ' (newest first; more in the API)' : ''}`)),
      deliveries.length
        ? h(
            'div',
            { class: 'table-box' },
            h(
              'table',
              { class: 'list-table deliveries-table' },
              h('thead', null, h('tr', null, ['Notification', 'Channel', 'Recipient', 'Status', 'Attempts', 'Last error', 'When', ''].map((t) => h('th', { scope: 'col' }, t)))),
              tbody,
            ),
          )
        : empty('No deliveries with this status.'),
    );
  }

  function deliveryRow(d) {
    const replayable = d.status === 'failed' || d.status === 'dead';
    return h(
      'tr',
      { dataset: { id: d.id } },
      h('td', { class: 'c-name' }, h('span', { class: 'name' }, d.title || titleCase(d.notificationType || '')), d.instanceId ? h('a', { class: 'sub', href: '/instances/' + encodeURIComponent(d.instanceId) }, d.projectName || d.instanceId) : null),
      h('td', null, h('span', { class: 'chip' }, d.channel)),
      h('td', { class: 'mono small' }, d.recipient || '—'),
      h('td', null, deliveryPill(d)),
      h('td', { class: 'num' }, number(d.attempts)),
      h('td', { class: 'err' }, d.lastError || h('span', { class: 'muted' }, '—')),
      h('td', null, timeEl(d.sentAt || d.createdAt), d.nextAttemptAt && d.status !== 'sent' ? h('span', { class: 'sub' }, timeEl(d.nextAttemptAt, 'retry ')) : null),
      h('td', null, replayable ? h('button', { onclick: () => replay(d) }, 'Replay') : null),
    );
  }

  async function replay(d) {
    try {
      await api('/deliveries/' + encodeURIComponent(d.id) + '/replay', { method: 'POST' });
      toast('Queued again; it will be sent shortly.');
    } catch (e) {
      toast('Replay failed: ' + e.message, 'bad');
    }
  }

  // ---- live ----
  ctx.on('notification', (n) => {
    if (inbox.some((x) => x.id === n.id)) return;
    inbox.unshift(n);
    renderTabs();
    if (tab === 'inbox') {
      renderInbox();
      const li = body.querySelector(`li[data-id="${CSS.escape(n.id)}"]`);
      if (li) flash(li);
    }
  });
  ctx.on('delivery', (d) => {
    if (tab !== 'deliveries') return;
    const i = deliveries.findIndex((x) => x.id === d.id);
    const row = body.querySelector(`tr[data-id="${CSS.escape(d.id)}"]`);
    if (i >= 0 && row) {
      deliveries[i] = d;
      const next = deliveryRow(d);
      row.replaceWith(next);
      flash(next);
    } else if (!status || d.status === status) {
      deliveries.unshift(d);
      renderDeliveries();
    }
  });
  ctx.on('resync', load);
  ctx.on('reset', load);

  renderTabs();
  load();
}
