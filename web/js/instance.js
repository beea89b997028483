// Instance (`/instances/{id}`): header and actions, steps with durations beside the service's
// median, the failure card, logs (build / deploy, level filter, search, live tail with pause),
// the probe chart, the event timeline and the notifications sent about it.
//
// API: GET /instances/{id}, /progress, /failure, /health, /health/checks, /events, /logs,
// /deliveries?instanceId=; POST /redeploy; PUT /monitoring; stream?instanceId= (docs/DASHBOARD.md).

import { api, openStream, query } from './api.js';
import { h, fill, icon, statusPill, deliveryPill, healthCell, ticks, errorChip, timeEl, durationEl, flash, toast, confirmDialog, errorBox, empty } from './ui.js';
import { duration, percent, railwayLabel, toneOf, clock, checkedEvery, HEALTH } from './format.js';
import { timeChart, unix } from './chart.js';

const LEVELS = { debug: 0, info: 1, warn: 2, error: 3 };
const MAX_LINES = 2000;

function level(severity) {
  const s = String(severity || 'info').toLowerCase();
  if (s.startsWith('err') || s === 'fatal' || s === 'critical') return 'error';
  if (s.startsWith('warn')) return 'warn';
  if (s === 'debug' || s === 'trace') return 'debug';
  return 'info';
}

export function mount(main, ctx) {
  const id = ctx.params[0];
  const path = '/instances/' + encodeURIComponent(id);
  let inst = null;
  let failure = null;
  let chart = null;
  let checks = [];
  let closeStream = null;
  let disposed = false;
  const timers = [];

  const root = h('section', { class: 'page instance' }, h('p', { class: 'loading' }, 'Loading…'));
  main.append(root);

  // ---- pieces that are refreshed independently ----
  const head = h('header', { class: 'inst-head' });
  const failureSlot = h('div');
  const progressPanel = h('section', { class: 'panel', 'aria-labelledby': 'h-progress' });
  const probePanel = h('section', { class: 'panel', 'aria-labelledby': 'h-probe' });
  const timelinePanel = h('section', { class: 'panel', 'aria-labelledby': 'h-timeline' });
  const notifyPanel = h('section', { class: 'panel', 'aria-labelledby': 'h-notify' });
  const logs = logPanel();

  async function load() {
    try {
      inst = await api(path);
    } catch (e) {
      fill(root, e.status === 404 ? h('div', null, h('h1', null, 'No such instance'), h('p', null, `railwatch does not know instance ${id}. `, h('a', { href: '/' }, 'Back to the fleet'), '.')) : errorBox(e, load));
      return;
    }
    if (disposed) return;
    ctx.setTitle(inst.projectName || inst.serviceId || inst.id);
    fill(root, 
      h('nav', { class: 'crumbs', 'aria-label': 'Breadcrumb' }, h('a', { href: '/' }, 'Fleet'), h('span', { 'aria-hidden': 'true' }, ' / '), h('span', null, inst.projectName || inst.serviceId)),
      head,
      failureSlot,
      h('div', { class: 'grid2' }, h('div', { class: 'col-main' }, progressPanel, logs.el), h('div', { class: 'col-side' }, probePanel, timelinePanel, notifyPanel)),
    );
    renderHead(null);
    loadHealth();
    loadProgress();
    loadFailure();
    loadEvents();
    loadDeliveries();
    logs.load();
    closeStream = openStream({ instanceId: id }, onStreamEvent);
  }

  // ---- header and actions ----
  let health = null;
  function renderHead() {
    const monitoring = inst.monitoring !== false;
    const deployment = inst.deploymentId ? (inst.railwayUrl ? h('a', { href: inst.railwayUrl, target: '_blank', rel: 'noopener', class: 'mono', title: 'Open this deployment on Railway' }, inst.deploymentId, icon('external')) : h('span', { class: 'mono' }, inst.deploymentId)) : h('span', { class: 'muted' }, 'no deployment yet');
    fill(head, 
      h(
        'div',
        { class: 'title' },
        h('h1', null, inst.projectName || inst.serviceId || inst.id, inst.projectName ? h('span', { class: 'muted' }, ' / ' + inst.serviceId) : null),
        h('dl', { class: 'meta' }, h('dt', null, 'Instance'), h('dd', { class: 'mono' }, inst.id), h('dt', null, 'Deployment'), h('dd', null, deployment), h('dt', null, 'Environment'), h('dd', { class: 'mono' }, inst.environmentId || '—'), inst.userId ? [h('dt', null, 'Owner'), h('dd', null, inst.user ? inst.user.email : inst.userId)] : null),
      ),
      h(
        'div',
        { class: 'head-status' },
        h('div', null, h('span', { class: 'label' }, 'Status'), statusPill(inst)),
        h('div', null, h('span', { class: 'label' }, 'Health'), healthCell(health ? health.status : inst.health)),
        h('div', null, h('span', { class: 'label' }, 'Uptime (24 h)'), h('strong', null, health && health.uptimePercent != null ? percent(health.uptimePercent / 100, 2) : '—')),
        h('div', null, h('span', { class: 'label' }, 'Duration'), durationEl(inst.deploymentStartedAt, inst.deploymentCompletedAt)),
      ),
      h(
        'div',
        { class: 'actions' },
        h('button', { class: 'primary', onclick: redeploy, disabled: inst.status === 'DELETED' }, icon('redo'), 'Redeploy'),
        h('button', { onclick: toggleMonitoring, 'aria-pressed': String(monitoring), disabled: inst.status === 'DELETED' }, icon(monitoring ? 'pause' : 'play'), monitoring ? 'Stop monitoring' : 'Start monitoring'),
        h('span', { class: 'sub' }, !monitoring ? 'not monitored' : checkedEvery(inst)),
      ),
    );
  }

  async function redeploy() {
    const ok = await confirmDialog('Redeploy this service?', `Railway builds and deploys ${inst.serviceId} again from the same source (deploymentRedeploy). The current deployment keeps serving until the new one is active.`, 'Redeploy');
    if (!ok) return;
    try {
      await api(path + '/redeploy', { method: 'POST' });
      toast('Redeploy requested. The new deployment appears here as Railway starts it.');
    } catch (e) {
      toast('Redeploy failed: ' + e.message, 'bad');
    }
  }

  async function toggleMonitoring() {
    const enabled = inst.monitoring === false;
    try {
      const updated = await api(path + '/monitoring', { method: 'PUT', body: { enabled } });
      inst = updated && updated.id ? updated : { ...inst, monitoring: enabled };
      renderHead();
      toast(enabled ? 'Monitoring started.' : 'Monitoring stopped. Nothing is checked until you start it again.');
    } catch (e) {
      toast('Could not change monitoring: ' + e.message, 'bad');
    }
  }

  // ---- progress and steps ----
  async function loadProgress() {
    try {
      const p = await api(path + '/progress');
      renderProgress(p);
    } catch (e) {
      fill(progressPanel, h('h2', { id: 'h-progress' }, 'Progress'), errorBox(e, loadProgress));
    }
  }

  function renderProgress(p) {
    const pct = Math.max(0, Math.min(100, Number(p.progress) || 0));
    const tone = toneOf(inst.deploymentStatus || inst.status);
    const steps = p.steps || [];
    const inFlight = inst.status === 'INITIALIZING' || inst.status === 'DEPLOYING';
    fill(progressPanel, 
      h('h2', { id: 'h-progress' }, 'Progress'),
      h('div', { class: `progress big ${tone}` }, h('div', { class: 'track', role: 'progressbar', 'aria-valuemin': '0', 'aria-valuemax': '100', 'aria-valuenow': String(Math.round(pct)), 'aria-label': 'deployment progress' }, h('div', { class: 'fill', style: `width:${pct}%` })), h('span', { class: 'plabel' }, inFlight ? [p.phase, Math.round(pct) + '%', p.etaSeconds != null ? 'ETA ' + duration(p.etaSeconds) : null].filter(Boolean).join(' · ') : p.phase)),
      steps.length
        ? h(
            'ol',
            { class: 'steps' },
            steps.map((s) =>
              h(
                'li',
                { class: `step ${s.state}` },
                icon(s.state === 'done' ? 'check' : s.state === 'failed' ? 'cross' : s.state === 'active' ? 'spin' : 'circle', s.state === 'active' ? 'spin' : ''),
                h('span', { class: 'sname' }, s.label || railwayLabel(s.name)),
                h('span', { class: 'sdur' }, s.state === 'active' && s.startedAt ? durationEl(s.startedAt, null) : s.durationSeconds != null ? duration(s.durationSeconds) : s.state === 'skipped' ? 'skipped' : s.state === 'unknown' ? 'not seen' : ''),
                h('span', { class: 'smed', title: "median of this service's earlier deployments" }, s.medianSeconds != null ? 'median ' + duration(s.medianSeconds) : ''),
                s.substeps && s.substeps.length ? h('ol', { class: 'substeps' }, s.substeps.map((x) => h('li', { class: `step ${x.state}` }, h('span', { class: 'sname' }, x.label || x.name), h('span', { class: 'sdur' }, x.durationSeconds != null ? duration(x.durationSeconds) : ''), h('span', { class: 'smed' }, x.medianSeconds != null ? 'median ' + duration(x.medianSeconds) : '')))) : null,
              ),
            ),
          )
        : h('p', { class: 'muted' }, 'No steps known yet.'),
    );
  }

  // ---- failure card ----
  async function loadFailure() {
    try {
      const f = await api(path + '/failure');
      failure = f.failure;
      renderFailure();
      logs.markDeciding(failure && failure.decidingLine);
    } catch (e) {
      fill(failureSlot);
    }
  }

  function renderFailure() {
    if (!failure) {
      fill(failureSlot);
      return;
    }
    const line = failure.decidingLine;
    fill(failureSlot, 
      h(
        'section',
        { class: 'failure-card', 'aria-labelledby': 'h-failure' },
        h('div', { class: 'fhead' }, icon('alert'), h('h2', { id: 'h-failure' }, failure.title || 'Deployment failed'), errorChip(failure.errorType), failure.failedStep ? h('span', { class: 'chip' }, 'in ' + failure.failedStep) : null, failure.at ? timeEl(failure.at) : null),
        failure.reason ? h('p', { class: 'reason' }, failure.reason) : null,
        line ? h('div', { class: 'deciding' }, h('div', { class: 'dlabel' }, `Deciding ${line.kind || ''} log line`), h('pre', { class: 'mono' }, h('span', { class: 'ts' }, clock(line.timestamp) + '  '), h('mark', null, line.message))) : failure.message ? h('pre', { class: 'deciding mono' }, failure.message) : null,
        failure.nextStep ? h('p', { class: 'next' }, h('strong', null, 'Next step: '), failure.nextStep) : null,
        inst.retryCount ? h('p', { class: 'sub' }, `railwatch redeployed it ${inst.retryCount} time${inst.retryCount === 1 ? '' : 's'} already.`) : null,
      ),
    );
  }

  // ---- health and probe chart ----
  async function loadHealth() {
    try {
      const [hres, cres] = await Promise.all([api(path + '/health'), api(path + '/health/checks?limit=500')]);
      health = hres;
      checks = cres.items || [];
      renderHead();
      renderProbe();
    } catch (e) {
      fill(probePanel, h('h2', { id: 'h-probe' }, 'Health'), errorBox(e, loadHealth));
    }
  }

  function chartData() {
    const xs = checks.map((c) => unix(c.at));
    const ys = checks.map((c) => (c.ok ? c.latencyMs : null));
    const bands = [];
    for (let i = 0; i < checks.length; i++) {
      if (checks[i].ok) continue;
      const from = xs[i];
      let j = i;
      while (j + 1 < checks.length && !checks[j + 1].ok) j++;
      const to = j + 1 < checks.length ? xs[j + 1] : xs[j];
      bands.push([from, to]);
      i = j;
    }
    return { data: [xs, ys], bands };
  }

  function renderProbe() {
    const up = checks.filter((c) => c.ok);
    const lat = up.map((c) => c.latencyMs).filter((v) => v != null).sort((a, b) => a - b);
    const p95 = lat.length ? lat[Math.min(lat.length - 1, Math.floor(lat.length * 0.95))] : null;
    const chartBox = h('div', { class: 'chart', role: 'img', 'aria-label': `probe latency over the last ${checks.length} checks; red bands mark failed checks` });
    const info = HEALTH[health.status] || HEALTH.UNKNOWN;
    fill(probePanel, 
      h('h2', { id: 'h-probe' }, 'Health and probe'),
      h('div', { class: 'kv' }, h('span', null, h('span', { class: 'label' }, 'Verdict'), h('span', { class: `value ${info.tone}` }, info.label)), h('span', null, h('span', { class: 'label' }, 'Up for'), h('span', { class: 'value' }, health.upSince === null ? '—' : duration(health.uptimeSeconds))), h('span', null, h('span', { class: 'label' }, 'p95 latency'), h('span', { class: 'value' }, p95 != null ? Math.round(p95) + ' ms' : '—')), h('span', null, h('span', { class: 'label' }, 'Last check'), h('span', { class: 'value' }, timeEl(health.lastCheckedAt)))),
      health.reasons && health.reasons.length ? h('ul', { class: 'reasons' }, health.reasons.map((r) => h('li', null, r))) : null,
      checks.length ? ticks(checks, 40) : null,
      checks.length ? chartBox : h('p', { class: 'muted' }, health.probe ? 'No probe results yet.' : 'This service is not probed over HTTP; health comes from Railway’s status and replicas.'),
    );
    if (chart) chart.destroy();
    chart = null;
    if (checks.length) {
      const { data, bands } = chartData();
      timeChart(chartBox, { series: [{ label: 'latency', color: '--chart-1', fill: true, value: (v) => Math.round(v) + ' ms' }], data, bands, height: 180, yFormat: (v) => v + ' ms' })
        .then((c) => {
          if (disposed) c.destroy();
          else chart = c;
        })
        .catch((e) => fill(chartBox, errorBox(e)));
    }
  }

  // ---- timeline ----
  let events = [];
  async function loadEvents() {
    try {
      events = (await api(path + '/events')).items || [];
      renderTimeline();
    } catch (e) {
      fill(timelinePanel, h('h2', { id: 'h-timeline' }, 'Timeline'), errorBox(e, loadEvents));
    }
  }

  // A row that changed the status reads "Building → Failed"; one that recorded a decision about
  // the status it kept (docs/ENGINE.md: a reaction, an attention flag, a person's
  // redeploy) says what it was, and the status it stayed in.
  function timelineHeading(ev) {
    if (ev.from && ev.from === ev.to) {
      const what = { reaction: 'Classified and acted on', attention: 'Flagged for attention', user: 'Redeploy requested' }[ev.source] || 'Recorded';
      return h('div', null, h('strong', null, what), ' · still ' + railwayLabel(ev.to));
    }
    return h('div', null, ev.from ? railwayLabel(ev.from) + ' → ' : '', h('strong', null, railwayLabel(ev.to)));
  }

  function renderTimeline() {
    const sorted = [...events].sort((a, b) => Date.parse(b.at) - Date.parse(a.at));
    fill(timelinePanel, 
      h('h2', { id: 'h-timeline' }, 'Timeline'),
      sorted.length
        ? h(
            'ol',
            { class: 'timeline' },
            sorted.map((ev) => h('li', { class: toneOf(ev.to) }, h('span', { class: 'tdot', 'aria-hidden': 'true' }), h('div', null, timelineHeading(ev), h('div', { class: 'sub' }, timeEl(ev.at), ev.source ? ' · ' + ev.source : '', ev.deploymentId ? ' · ' + ev.deploymentId.slice(0, 8) : '')))),
          )
        : empty('No status changes recorded yet.'),
    );
  }

  // ---- notifications sent about it ----
  async function loadDeliveries() {
    try {
      const res = await api('/deliveries' + query({ instanceId: id, limit: 50 }));
      renderDeliveries(res.items || []);
    } catch (e) {
      fill(notifyPanel, h('h2', { id: 'h-notify' }, 'Notifications'), errorBox(e, loadDeliveries));
    }
  }

  function renderDeliveries(items) {
    fill(notifyPanel, 
      h('h2', { id: 'h-notify' }, 'Notifications'),
      items.length
        ? h(
            'ul',
            { class: 'deliveries' },
            items.map((d) => h('li', null, h('div', null, h('strong', null, d.title || d.notificationType), ' ', h('span', { class: 'chip' }, d.channel)), h('div', { class: 'sub' }, deliveryPill(d), ' ', d.recipient || '', ' · ', `${d.attempts} attempt${d.attempts === 1 ? '' : 's'}`, ' · ', timeEl(d.sentAt || d.createdAt)), d.lastError ? h('div', { class: 'sub bad-text' }, d.lastError) : null)),
          )
        : empty('Nothing sent about this instance.'),
    );
  }

  // ---- live ----
  function onStreamEvent(name, data) {
    if (!data) return;
    if (name === 'log') logs.append(data);
  }

  let refreshTimer = null;
  function refreshSoon() {
    clearTimeout(refreshTimer);
    refreshTimer = setTimeout(() => {
      loadProgress();
      loadFailure();
      loadDeliveries();
    }, 500);
  }

  ctx.on('instance', (next) => {
    if (!inst || next.id !== id) return;
    const changed = next.status !== inst.status || next.deploymentStatus !== inst.deploymentStatus || next.deploymentId !== inst.deploymentId;
    inst = { ...inst, ...next };
    renderHead();
    if (changed) flash(head);
    refreshSoon();
    if (next.deploymentId && logs.deploymentId && next.deploymentId !== logs.deploymentId) logs.load();
  });
  ctx.on('transition', (ev) => {
    if (ev.instanceId !== id) return;
    events.push(ev);
    renderTimeline();
  });
  ctx.on('health', (ev) => {
    if (ev.instanceId !== id || !health) return;
    health = { ...health, status: ev.status || health.status, lastCheckedAt: ev.at };
    checks.push({ at: ev.at, ok: ev.ok, httpStatus: ev.httpStatus, latencyMs: ev.latencyMs, error: ev.error });
    if (checks.length > 500) checks.shift();
    renderProbe();
    renderHead();
  });
  ctx.on('delivery', (d) => d.instanceId === id && loadDeliveries());
  ctx.on('resync', () => load());
  ctx.on('reset', () => load());

  load();

  return () => {
    disposed = true;
    if (closeStream) closeStream();
    if (chart) chart.destroy();
    clearTimeout(refreshTimer);
    timers.forEach(clearInterval);
    logs.dispose();
  };

  // ---- logs panel ----
  function logPanel() {
    let kind = 'deploy';
    let lines = { deploy: [], build: [] };
    let minLevel = 0;
    let needle = '';
    let paused = false;
    let held = 0;
    let deciding = null;
    const panel = {};
    const view = h('div', { class: 'log-view', role: 'log', tabindex: '0', 'aria-label': 'log lines' });
    const foot = h('div', { class: 'log-foot sub', 'aria-live': 'polite' });
    const tabs = ['deploy', 'build'].map((k) => h('button', { role: 'tab', id: 'tab-' + k, 'aria-controls': 'log-view', 'aria-selected': String(k === kind), tabindex: k === kind ? '0' : '-1', onclick: () => select(k) }, k === 'deploy' ? 'Deploy logs' : 'Build logs'));
    view.id = 'log-view';
    const tablist = h('div', { role: 'tablist', 'aria-label': 'Log kind', class: 'tabs' }, tabs);
    tablist.addEventListener('keydown', (e) => {
      if (e.key !== 'ArrowLeft' && e.key !== 'ArrowRight') return;
      const next = kind === 'deploy' ? 'build' : 'deploy';
      select(next);
      document.getElementById('tab-' + next).focus();
    });
    const levelSelect = h('select', { 'aria-label': 'Minimum level', onchange: (e) => { minLevel = Number(e.target.value); render(); } }, h('option', { value: '0' }, 'All levels'), h('option', { value: '1' }, 'Info and above'), h('option', { value: '2' }, 'Warnings and errors'), h('option', { value: '3' }, 'Errors only'));
    let searchTimer = null;
    const searchInput = h('input', { type: 'search', placeholder: 'Search logs', 'aria-label': 'Search logs', oninput: (e) => { clearTimeout(searchTimer); searchTimer = setTimeout(() => { needle = e.target.value.trim().toLowerCase(); render(); }, 200); } });
    const tail = h('button', { class: 'tail', 'aria-pressed': 'true', onclick: () => setPaused(!paused) });
    panel.el = h('section', { class: 'panel logs', 'aria-labelledby': 'h-logs' }, h('div', { class: 'log-head' }, h('h2', { id: 'h-logs' }, 'Logs'), tablist, h('div', { class: 'log-tools' }, levelSelect, searchInput, tail)), view, foot);

    function setPaused(p) {
      paused = p;
      tail.setAttribute('aria-pressed', String(!paused));
      fill(tail, icon(paused ? 'play' : 'pause'), paused ? 'Resume live tail' : 'Pause live tail');
      tail.classList.toggle('paused', paused);
      if (!paused) {
        held = 0;
        render();
      } else updateFoot();
    }

    function select(k) {
      kind = k;
      for (const t of tabs) {
        const on = t.id === 'tab-' + k;
        t.setAttribute('aria-selected', String(on));
        t.tabIndex = on ? 0 : -1;
      }
      view.setAttribute('aria-labelledby', 'tab-' + k);
      if (!lines[k].loaded) fetchKind(k);
      else render();
    }

    async function fetchKind(k) {
      fill(view, h('p', { class: 'loading' }, 'Loading…'));
      try {
        const res = await api(path + '/logs' + query({ kind: k, limit: 1000 }));
        lines[k] = res.items || [];
        lines[k].loaded = true;
        if (k === kind) render();
      } catch (e) {
        if (k === kind) fill(view, errorBox(e, () => fetchKind(k)));
      }
    }

    function visible(l) {
      if (LEVELS[level(l.severity)] < minLevel) return false;
      return !needle || String(l.message).toLowerCase().includes(needle);
    }

    function lineEl(l) {
      const lv = level(l.severity);
      const msg = h('span', { class: 'msg' });
      const text = String(l.message);
      if (needle) {
        const low = text.toLowerCase();
        let at = 0;
        for (let i = low.indexOf(needle); i >= 0; i = low.indexOf(needle, at)) {
          msg.append(text.slice(at, i), h('mark', null, text.slice(i, i + needle.length)));
          at = i + needle.length;
        }
        msg.append(text.slice(at));
      } else msg.textContent = text;
      const isDeciding = deciding && deciding.message === l.message && deciding.timestamp === l.timestamp;
      return h('div', { class: `line ${lv}${isDeciding ? ' deciding' : ''}` }, h('time', { datetime: l.timestamp, title: l.timestamp }, clock(l.timestamp)), h('span', { class: 'sev' }, lv), msg);
    }

    function render() {
      const shown = lines[kind].filter(visible);
      const slice = shown.slice(-1000);
      if (!lines[kind].length) fill(view, empty(lines[kind].loaded ? `No ${kind} log lines yet.` : 'Loading…'));
      else if (!shown.length) fill(view, empty('No line matches the level and search.'));
      else fill(view, ...slice.map(lineEl));
      const d = view.querySelector('.deciding');
      // Scroll inside the log view only; the page itself stays where the reader left it.
      if (d) view.scrollTop = Math.max(0, d.offsetTop - view.offsetTop - view.clientHeight / 2);
      else view.scrollTop = view.scrollHeight;
      updateFoot(shown.length);
    }

    function updateFoot(shownCount) {
      const total = lines[kind].length;
      const shown = shownCount ?? lines[kind].filter(visible).length;
      fill(foot, `${shown} of ${total} lines`, paused && held ? h('button', { class: 'link', onclick: () => setPaused(false) }, ` · ${held} new line${held === 1 ? '' : 's'} — resume`) : paused ? ' · paused' : ' · live');
    }

    panel.load = () => {
      lines = { deploy: [], build: [] };
      panel.deploymentId = inst.deploymentId;
      select(kind);
    };
    panel.append = (l) => {
      const k = l.kind === 'build' ? 'build' : 'deploy';
      if (l.deploymentId && inst && l.deploymentId !== inst.deploymentId) return;
      // A line may arrive twice: in the page's first read and on the stream, or again after serve restarted.
      const have = lines[k];
      for (let i = have.length - 1; i >= Math.max(0, have.length - 500); i--) {
        if (have[i].timestamp === l.timestamp && have[i].message === l.message) return;
      }
      lines[k].push(l);
      if (lines[k].length > MAX_LINES) lines[k].splice(0, lines[k].length - MAX_LINES);
      if (k !== kind) return;
      if (paused) {
        held++;
        updateFoot();
        return;
      }
      if (!visible(l)) return updateFoot();
      const atBottom = view.scrollTop + view.clientHeight >= view.scrollHeight - 24;
      const emptyEl = view.querySelector('.empty');
      if (emptyEl) emptyEl.remove();
      view.append(lineEl(l));
      while (view.childElementCount > 1000) view.firstElementChild.remove();
      if (atBottom) view.scrollTop = view.scrollHeight;
      updateFoot();
    };
    panel.markDeciding = (line) => {
      deciding = line || null;
      if (deciding && deciding.kind && deciding.kind !== kind) select(deciding.kind === 'build' ? 'build' : 'deploy');
      else if (lines[kind].loaded) render();
    };
    panel.dispose = () => clearTimeout(searchTimer);
    setPaused(false);
    return panel;
  }
}
