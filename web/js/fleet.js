// Fleet (`/`): summary strip, facets and search kept in the URL, and the table of instances,
// 100 per page (cursor pagination), updated in place from the event stream.
//
// API: GET /stats, GET /instances?status=&health=&errorType=&needsAttention=&q=&limit=&cursor=,
// events `instance`, `health`, `transition`, `reset` (docs/DASHBOARD.md).

import { api, query } from './api.js';
import { h, fill, icon, statusPill, progressCell, healthCell, errorChip, timeEl, durationEl, flash, errorBox, empty } from './ui.js';
import { duration, percent, number, relative, ERROR_CLASS } from './format.js';

const PAGE_SIZE = 100;
const MAX_TICKS = 20;

const FACETS = [
  { key: 'status', title: 'Status', countsFrom: 'byStatus', values: [['INITIALIZING', 'Initializing'], ['DEPLOYING', 'Deploying'], ['RUNNING', 'Running'], ['FAILED', 'Failed'], ['DELETED', 'Deleted']] },
  { key: 'health', title: 'Health', countsFrom: 'byHealth', values: [['HEALTHY', 'Healthy'], ['DEGRADED', 'Degraded'], ['UNHEALTHY', 'Unhealthy'], ['UNKNOWN', 'Unknown']] },
  { key: 'errorType', title: 'Error class', countsFrom: 'byErrorType', values: Object.entries(ERROR_CLASS) },
];

function readFilter() {
  const p = new URLSearchParams(location.search);
  const list = (k) => (p.get(k) || '').split(',').filter(Boolean);
  return { status: list('status'), health: list('health'), errorType: list('errorType'), attention: p.get('attention') === '1', q: p.get('q') || '', cursor: p.get('cursor') || '' };
}

function filterUrl(f) {
  const q = query({ status: f.status, health: f.health, errorType: f.errorType, attention: f.attention ? '1' : '', q: f.q, cursor: f.cursor });
  return '/' + q;
}

/** The same rules as the server's filter, to decide whether a live row belongs on this page. */
function matches(inst, f) {
  if (f.status.length && !f.status.includes(inst.status)) return false;
  if (f.health.length && !f.health.includes(inst.health || 'UNKNOWN')) return false;
  if (f.errorType.length && !f.errorType.includes(inst.errorType)) return false;
  if (f.attention && !inst.needsAttention) return false;
  if (f.q) {
    const needle = f.q.toLowerCase();
    const hay = [inst.id, inst.projectName, inst.serviceId, inst.deploymentId, inst.environmentId].filter(Boolean).join(' ').toLowerCase();
    if (!hay.includes(needle)) return false;
  }
  return true;
}

export function mount(main, ctx) {
  ctx.setTitle('Fleet');
  let filter = readFilter();
  const state = history.state && history.state.fleet ? history.state.fleet : { stack: [], offset: 0 };
  let page = null; // {items, nextCursor, totalCount}
  let stats = null;
  const rows = new Map(); // id -> {tr, inst}
  const pending = new Map(); // id -> latest instance, flushed once per frame
  const fresh = []; // new matching instances held back while the pointer is over the table
  let frame = 0;
  let hovering = false;
  let aborter = null;
  let statsTimer = null;

  const banner = h('div', { class: 'banner-slot' });
  const summary = h('div', { class: 'summary', 'aria-label': 'Fleet summary' });
  const facets = h('div', { class: 'facet-groups' });
  const search = h('input', { type: 'search', placeholder: 'Search project, service or deployment id', 'aria-label': 'Search instances', value: filter.q });
  const countText = h('span', { class: 'count-text muted', 'aria-live': 'polite' });
  const freshButton = h('button', { class: 'fresh', hidden: true, onclick: () => showFresh() });
  const tbody = h('tbody');
  const table = h(
    'table',
    { class: 'fleet-table' },
    h('thead', null, h('tr', null, h('th', { scope: 'col' }, 'Status'), h('th', { scope: 'col' }, 'Instance'), h('th', { scope: 'col' }, 'Progress'), h('th', { scope: 'col' }, 'Health'), h('th', { scope: 'col' }, 'Duration'), h('th', { scope: 'col' }, 'Error'))),
    tbody,
  );
  const tableBox = h('div', { class: 'table-box' }, table);
  const pager = h('nav', { class: 'pager', 'aria-label': 'Pages' });
  const wide = matchMedia('(min-width: 900px)').matches;
  const facetBox = h('details', { class: 'facets', open: wide }, h('summary', null, icon('filter'), 'Filters'), facets, h('button', { class: 'link clear', onclick: () => setFilter({ status: [], health: [], errorType: [], attention: false, q: '' }) }, 'Clear filters'));

  main.append(
    h(
      'section',
      { class: 'page fleet' },
      h('h1', { class: 'visually-hidden' }, 'Fleet'),
      banner,
      summary,
      h('div', { class: 'fleet-layout' }, h('aside', { 'aria-label': 'Filters' }, facetBox), h('div', { class: 'fleet-main' }, h('div', { class: 'toolbar' }, h('div', { class: 'searchbox' }, icon('search'), search), countText, freshButton), tableBox, pager)),
    ),
  );

  tableBox.addEventListener('pointerenter', () => (hovering = true));
  tableBox.addEventListener('pointerleave', () => (hovering = false));
  tbody.addEventListener('click', (e) => {
    if (e.target.closest('a, button')) return;
    const tr = e.target.closest('tr[data-id]');
    if (tr && !getSelection().toString()) ctx.navigate('/instances/' + encodeURIComponent(tr.dataset.id));
  });

  let searchTimer = null;
  search.addEventListener('input', () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(() => setFilter({ ...filter, q: search.value.trim() }, true), 300);
  });
  search.addEventListener('keydown', (e) => {
    if (e.key === 'Enter') {
      clearTimeout(searchTimer);
      setFilter({ ...filter, q: search.value.trim() }, true);
    }
  });

  function setFilter(next, replace = false) {
    filter = { ...next, cursor: '' };
    state.stack = [];
    state.offset = 0;
    const url = filterUrl(filter);
    if (replace) history.replaceState({ fleet: state }, '', url);
    else history.pushState({ fleet: state }, '', url);
    search.value = filter.q;
    renderFacets();
    loadList();
  }

  function goPage(cursor, stack, offset) {
    filter = { ...filter, cursor };
    state.stack = stack;
    state.offset = offset;
    history.pushState({ fleet: state }, '', filterUrl(filter));
    loadList();
    tableBox.scrollIntoView({ block: 'start' });
  }

  // ---- data ----
  async function loadStats() {
    try {
      stats = await api('/stats');
      renderSummary();
      renderFacets();
    } catch (e) {
      fill(summary, errorBox(e, loadStats));
    }
  }

  async function loadList() {
    if (aborter) aborter.abort();
    aborter = new AbortController();
    tableBox.setAttribute('aria-busy', 'true');
    try {
      const q = query({ status: filter.status, health: filter.health, errorType: filter.errorType, needsAttention: filter.attention ? 'true' : '', q: filter.q, limit: PAGE_SIZE, cursor: filter.cursor, count: 'true' });
      page = await api('/instances' + q, { signal: aborter.signal });
      renderRows();
    } catch (e) {
      if (e.name === 'AbortError') return;
      fill(tbody, h('tr', null, h('td', { colspan: '6' }, errorBox(e, loadList))));
    } finally {
      tableBox.removeAttribute('aria-busy');
    }
  }

  function loadStatsSoon() {
    clearTimeout(statsTimer);
    statsTimer = setTimeout(loadStats, 2000);
  }

  // ---- rendering ----
  function renderSummary() {
    const s = stats;
    const byStatus = s.byStatus || {};
    const inFlight = (byStatus.INITIALIZING || 0) + (byStatus.DEPLOYING || 0);
    const total = s.totalInstances || 0;
    const seg = (n, tone) => (n ? h('span', { class: `seg ${tone}`, style: `flex-grow:${n}` }) : null);
    const b = s.budget || null;
    let budgetSub = 'no Railway requests yet';
    if (b) {
      if (b.exhaustsAt) budgetSub = `runs out ${relative(b.exhaustsAt)}`;
      else if (b.resetAt) budgetSub = `lasts until reset ${relative(b.resetAt)}`;
    }
    fill(summary, 
      card('Instances', number(total), h('span', { class: 'stack', 'aria-hidden': 'true' }, seg(s.runningInstances, 'ok'), seg(inFlight, 'warn'), seg(s.failedInstances, 'bad'))),
      card('Running', number(s.runningInstances), null, 'ok', '/?status=RUNNING'),
      card('In progress', number(inFlight), null, 'warn', '/?status=INITIALIZING,DEPLOYING'),
      card('Failed', number(s.failedInstances), null, 'bad', '/?status=FAILED'),
      card('Error rate', percent(s.errorRate), h('span', { class: 'sub' }, 'finished deploys')),
      card('Checks / min', number(s.checksPerMinute), h('span', { class: 'sub' }, 'avg deploy ' + duration(s.avgDeploymentSeconds))),
      card('API budget', b ? `${number(b.remaining)} / ${number(b.limitPerHour)}` : '—', h('span', { class: 'sub' }, budgetSub), b && b.exhaustsAt ? 'warn' : ''),
      card('Needs attention', number(s.needsAttention), null, s.needsAttention ? 'bad' : '', '/attention'),
    );
    fill(banner);
    if (s.incident) {
      const i = s.incident;
      banner.append(h('div', { class: 'banner warn', role: 'status' }, icon('alert'), h('span', null, h('strong', null, 'Railway reports an incident: '), i.message || i.status || 'see Railway status', i.startedAt ? ' (since ' + relative(i.startedAt) + ')' : '', '. ', h('span', { class: 'more' }, 'Stalls during it are not blamed on your deployments. ')), i.url ? h('a', { href: i.url, target: '_blank', rel: 'noopener' }, 'Details') : null));
    }
  }

  function card(label, value, extra, tone = '', href = '') {
    const body = [h('span', { class: 'label' }, label), h('span', { class: `value ${tone}` }, value), extra];
    return href ? h('a', { class: 'card', href }, body) : h('div', { class: 'card' }, body);
  }

  function renderFacets() {
    fill(facets);
    for (const f of FACETS) {
      const counts = (stats && stats[f.countsFrom]) || {};
      facets.append(
        h(
          'fieldset',
          null,
          h('legend', null, f.title),
          f.values.map(([value, label]) =>
            h(
              'label',
              { class: 'facet' },
              h('input', {
                type: 'checkbox',
                checked: filter[f.key].includes(value),
                onchange: (e) => {
                  const set = new Set(filter[f.key]);
                  if (e.target.checked) set.add(value);
                  else set.delete(value);
                  setFilter({ ...filter, [f.key]: [...set] });
                },
              }),
              h('span', null, label),
              h('span', { class: 'n' }, counts[value] != null ? number(counts[value]) : ''),
            ),
          ),
        ),
      );
    }
    facets.append(
      h(
        'fieldset',
        null,
        h('legend', null, 'Attention'),
        h('label', { class: 'facet' }, h('input', { type: 'checkbox', checked: filter.attention, onchange: (e) => setFilter({ ...filter, attention: e.target.checked }) }), h('span', null, 'Needs attention'), h('span', { class: 'n' }, stats ? number(stats.needsAttention) : '')),
      ),
    );
  }

  function renderRows() {
    rows.clear();
    fresh.length = 0;
    freshButton.hidden = true;
    const items = page.items || [];
    if (!items.length) {
      fill(tbody, h('tr', { class: 'empty-row' }, h('td', { colspan: '6' }, empty(filtered() ? 'No instance matches these filters.' : 'No instances yet. Add one with POST /api/v1/instances or `railwatch instances add`.'))));
    } else {
      fill(tbody, ...items.map((inst) => rowFor(inst).tr));
    }
    renderPager();
  }

  function filtered() {
    return filter.status.length || filter.health.length || filter.errorType.length || filter.attention || filter.q;
  }

  function rowFor(inst) {
    const tr = h('tr', { dataset: { id: inst.id } });
    const row = { tr, inst };
    fillRow(row);
    rows.set(inst.id, row);
    return row;
  }

  function fillRow(row) {
    const inst = row.inst;
    const name = inst.projectName || inst.serviceId || inst.id;
    const sub = [inst.projectName ? inst.serviceId : null, inst.deploymentId ? 'dep ' + short(inst.deploymentId) : 'no deployment yet'].filter(Boolean).join(' · ');
    row.tr.classList.toggle('stale', !matches(inst, filter));
    row.tr.title = row.tr.classList.contains('stale') ? 'No longer matches the filters; it leaves the list on the next reload' : '';
    fill(row.tr, 
      h('td', { class: 'c-status' }, statusPill(inst)),
      h('td', { class: 'c-name' }, h('a', { href: '/instances/' + encodeURIComponent(inst.id), class: 'name' }, name), h('span', { class: 'sub mono' }, sub)),
      h('td', { class: 'c-progress' }, progressCell(inst)),
      h('td', { class: 'c-health' }, healthCell(inst.health, inst.recentChecks)),
      h('td', { class: 'c-time' }, durationEl(inst.deploymentStartedAt, inst.deploymentCompletedAt), h('span', { class: 'sub' }, timeEl(inst.deploymentStartedAt || inst.createdAt, inst.deploymentStartedAt ? 'started ' : 'added '))),
      h('td', { class: 'c-error' }, errorChip(inst.errorType), inst.retryCount ? h('span', { class: 'sub', title: 'automatic redeploys so far' }, `${inst.retryCount} retr${inst.retryCount === 1 ? 'y' : 'ies'}`) : null),
    );
  }

  function renderPager() {
    const n = (page.items || []).length;
    const total = page.totalCount;
    const from = n ? state.offset + 1 : 0;
    const to = state.offset + n;
    countText.textContent = total != null ? `${number(from)}–${number(to)} of ${number(total)}` : `${number(from)}–${number(to)}`;
    const newer = h('button', { disabled: !state.stack.length && !filter.cursor, onclick: () => { const stack = [...state.stack]; const prev = stack.pop() || ''; goPage(prev, stack, Math.max(0, state.offset - PAGE_SIZE)); } }, '‹ Newer');
    const older = h('button', { disabled: !page.nextCursor, onclick: () => goPage(page.nextCursor, [...state.stack, filter.cursor], state.offset + PAGE_SIZE) }, 'Older ›');
    fill(pager, newer, h('span', { class: 'muted' }, countText.textContent), older);
  }

  // ---- live updates ----
  function queue(inst) {
    pending.set(inst.id, inst);
    if (!frame) frame = requestAnimationFrame(flush);
  }

  function flush() {
    frame = 0;
    for (const inst of pending.values()) {
      const row = rows.get(inst.id);
      if (row) {
        const before = row.inst;
        row.inst = { ...before, ...inst, recentChecks: inst.recentChecks || before.recentChecks };
        fillRow(row);
        if (before.status !== row.inst.status || before.deploymentStatus !== row.inst.deploymentStatus || before.health !== row.inst.health || Math.round(before.progress) !== Math.round(row.inst.progress)) flash(row.tr);
      } else if (!filter.cursor && matches(inst, filter) && page) {
        fresh.push(inst);
      }
    }
    pending.clear();
    if (fresh.length && !hovering && !tableBox.contains(document.activeElement)) showFresh();
    else if (fresh.length) {
      freshButton.hidden = false;
      freshButton.textContent = `${fresh.length} new — show`;
    }
  }

  // New instances go on top (the list is newest first) only when nobody is pointing at the table.
  function showFresh() {
    if (!fresh.length) return;
    const emptyRow = tbody.querySelector('.empty-row');
    if (emptyRow) emptyRow.remove();
    for (const inst of fresh.splice(0).reverse()) {
      if (rows.has(inst.id)) continue;
      const row = rowFor(inst);
      tbody.prepend(row.tr);
      flash(row.tr);
      page.items.unshift(inst);
      if (page.totalCount != null) page.totalCount++;
    }
    while (tbody.rows.length > PAGE_SIZE) {
      const last = tbody.rows[tbody.rows.length - 1];
      rows.delete(last.dataset.id);
      last.remove();
      page.items.pop();
    }
    freshButton.hidden = true;
    renderPager();
  }

  ctx.on('instance', (inst) => {
    queue(inst);
    loadStatsSoon();
  });
  ctx.on('health', (ev) => {
    const row = rows.get(ev.instanceId);
    if (!row) return;
    const base = pending.get(ev.instanceId) || row.inst;
    const checks = [...(base.recentChecks || []), { at: ev.at, ok: ev.ok, latencyMs: ev.latencyMs, error: ev.error }].slice(-MAX_TICKS);
    queue({ ...base, health: ev.status || base.health, recentChecks: checks });
  });
  ctx.on('transition', loadStatsSoon);
  ctx.on('reset', () => {
    loadStats();
    loadList();
  });
  ctx.on('resync', () => {
    loadStats();
    loadList();
  });
  const statsInterval = setInterval(loadStats, 30000);

  renderFacets();
  loadStats();
  loadList();

  return () => {
    clearInterval(statsInterval);
    clearTimeout(statsTimer);
    clearTimeout(searchTimer);
    if (aborter) aborter.abort();
    if (frame) cancelAnimationFrame(frame);
  };
}

function short(id) {
  return id.length > 12 ? id.slice(0, 8) + '…' : id;
}
