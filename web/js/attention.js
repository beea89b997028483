// Attention (`/attention`): stuck, crash-looping and failed instances with reason and age;
// those delayed by a Railway incident apart, not blamed on the user.
//
// API: GET /attention (docs/DASHBOARD.md); refreshed on `instance` and `transition` events.

import { api } from './api.js';
import { h, fill, statusPill, pill, errorChip, timeEl, errorBox, empty } from './ui.js';
import { number } from './format.js';

const KIND = {
  stuck: ['warn', 'clock', 'Stuck'],
  crash_loop: ['bad', 'bolt', 'Crash loop'],
  failed: ['bad', 'cross', 'Failed'],
  unhealthy: ['bad', 'alert', 'Unhealthy'],
  other: ['muted', 'dot', 'Attention'],
};

export function mount(main, ctx) {
  ctx.setTitle('Attention');
  const ids = new Set();
  const body = h('div', null, h('p', { class: 'loading' }, 'Loading…'));
  main.append(h('section', { class: 'page attention' }, h('h1', null, 'Attention'), h('p', { class: 'lead muted' }, 'Instances a person should look at, oldest first. Stalls while Railway reports an incident are listed apart.'), body));

  async function load() {
    try {
      const res = await api('/attention');
      render(res.items || []);
    } catch (e) {
      fill(body, errorBox(e, load));
    }
  }

  function render(items) {
    ids.clear();
    items.forEach((i) => ids.add(i.id));
    const byAge = (a, b) => Date.parse(a.attentionSince || a.deploymentUpdatedAt || a.createdAt) - Date.parse(b.attentionSince || b.deploymentUpdatedAt || b.createdAt);
    const yours = items.filter((i) => !i.incidentRelated).sort(byAge);
    const railway = items.filter((i) => i.incidentRelated).sort(byAge);
    fill(body, 
      h('h2', null, 'Needs you ', h('span', { class: 'count' }, number(yours.length))),
      yours.length ? table(yours) : empty('Nothing needs attention. Every instance is running, deploying normally or was dealt with.'),
      railway.length ? [h('h2', null, 'Delayed by a Railway incident ', h('span', { class: 'count' }, number(railway.length))), h('p', { class: 'muted' }, 'These stalled while Railway reported an incident; they are most likely not caused by the service. They usually resume on their own.'), table(railway)] : null,
    );
  }

  function table(items) {
    return h(
      'div',
      { class: 'table-box' },
      h(
        'table',
        { class: 'list-table' },
        h('thead', null, h('tr', null, h('th', { scope: 'col' }, 'Why'), h('th', { scope: 'col' }, 'Instance'), h('th', { scope: 'col' }, 'Status'), h('th', { scope: 'col' }, 'Reason'), h('th', { scope: 'col' }, 'Since'), h('th', { scope: 'col' }, 'Owner'))),
        h(
          'tbody',
          null,
          items.map((i) => {
            const [tone, ic, label] = KIND[i.attentionKind] || KIND.other;
            return h(
              'tr',
              { dataset: { id: i.id } },
              h('td', null, pill(tone, ic, label)),
              h('td', { class: 'c-name' }, h('a', { class: 'name', href: '/instances/' + encodeURIComponent(i.id) }, i.projectName || i.serviceId || i.id), h('span', { class: 'sub mono' }, i.serviceId)),
              h('td', null, statusPill(i)),
              h('td', { class: 'reason' }, i.attentionReason || i.errorMessage || '—', i.errorType ? [' ', errorChip(i.errorType)] : null),
              h('td', null, timeEl(i.attentionSince || i.deploymentUpdatedAt || i.createdAt)),
              h('td', null, i.user ? h('span', { title: i.user.email }, i.user.name || i.user.email) : h('span', { class: 'muted' }, '—')),
            );
          }),
        ),
      ),
    );
  }

  let timer = null;
  const soon = () => {
    clearTimeout(timer);
    timer = setTimeout(load, 1000);
  };
  ctx.on('instance', (i) => {
    if (i.needsAttention || ids.has(i.id)) soon();
  });
  ctx.on('resync', load);
  ctx.on('reset', load);
  load();
  return () => clearTimeout(timer);
}
