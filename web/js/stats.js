// Stats (`/stats`): deployment duration p50 / p95 over time, error rate by class over time,
// checks and Railway API budget used over time. The window is kept in the URL (?window=24h);
// without one the page opens on the smallest of 1h / 6h / 24h that holds the fleet's history
// (a fleet minutes old would otherwise crowd its points at the right edge of a day).
//
// API: GET /stats, GET /stats/history?since=&stepSeconds= (docs/DASHBOARD.md).

import { api, query } from './api.js';
import { h, fill, errorBox } from './ui.js';
import { duration, percent, number, relative, ERROR_CLASS } from './format.js';
import { timeChart, unix } from './chart.js';

const WINDOWS = { '1h': [3600, 60], '6h': [21600, 300], '24h': [86400, 900], '7d': [604800, 3600] };
const DEFAULT_WINDOW = '24h';

// The smallest window before `DEFAULT_WINDOW` whose span holds every bucket with something in it
// (of `points`, read for the default window); the default when the history is older.
function windowFor(points) {
  const first = points.find((p) => p.checks || p.apiRequests || p.finished);
  if (!first) return DEFAULT_WINDOW;
  const age = (Date.now() - Date.parse(first.at)) / 1000;
  const fits = Object.keys(WINDOWS).find((w) => age <= WINDOWS[w][0]);
  return fits && WINDOWS[fits][0] < WINDOWS[DEFAULT_WINDOW][0] ? fits : DEFAULT_WINDOW;
}
const CLASS_COLORS = { CONFIGURATION: '--chart-1', NETWORK: '--chart-2', AUTHENTICATION: '--chart-3', RESOURCE: '--chart-4', TIMEOUT: '--chart-5', UNKNOWN: '--chart-6' };

export function mount(main, ctx) {
  ctx.setTitle('Stats');
  let win = new URLSearchParams(location.search).get('window');
  let chosen = Boolean(WINDOWS[win]); // by the URL or a click: kept; otherwise fitted once to the history
  if (!chosen) win = DEFAULT_WINDOW;
  const charts = [];
  let disposed = false;

  const picker = h('div', { class: 'segmented', role: 'group', 'aria-label': 'Time window' });
  const numbers = h('div', { class: 'summary' });
  const boxes = {
    duration: h('div', { class: 'chart', role: 'img', 'aria-label': 'deployment duration p50 and p95 over time' }),
    errors: h('div', { class: 'chart', role: 'img', 'aria-label': 'error rate by class over time' }),
    checks: h('div', { class: 'chart', role: 'img', 'aria-label': 'checks and API requests over time, with the budget left' }),
  };
  main.append(
    h(
      'section',
      { class: 'page stats' },
      h('div', { class: 'page-head' }, h('h1', null, 'Stats'), picker),
      numbers,
      h('section', { class: 'panel' }, h('h2', null, 'Deployment duration'), h('p', { class: 'sub' }, 'From the first status railwatch recorded to active or failed, per deployment finished in each interval.'), boxes.duration),
      h('section', { class: 'panel' }, h('h2', null, 'Error rate by class'), h('p', { class: 'sub' }, 'Share of the deployments finished in each interval that failed, by error class.'), boxes.errors),
      h('section', { class: 'panel' }, h('h2', null, 'Checks and Railway API budget'), h('p', { class: 'sub' }, 'Deployment checks and Railway API requests per interval; the line is the hourly budget left.'), boxes.checks),
    ),
  );

  function renderPicker() {
    fill(picker, 
      ...Object.keys(WINDOWS).map((w) =>
        h(
          'button',
          {
            'aria-pressed': String(w === win),
            onclick: () => {
              win = w;
              chosen = true;
              history.replaceState(null, '', '/stats' + query({ window: w }));
              renderPicker();
              load();
            },
          },
          w,
        ),
      ),
    );
  }

  async function load() {
    const [span, step] = WINDOWS[win];
    const since = new Date(Date.now() - span * 1000).toISOString().replace(/\.\d+Z$/, 'Z');
    try {
      const [stats, hist] = await Promise.all([api('/stats'), api('/stats/history' + query({ since, stepSeconds: step }))]);
      if (disposed) return;
      if (!chosen) {
        chosen = true;
        const fitted = windowFor(hist.points || []);
        if (fitted !== win) {
          win = fitted;
          renderPicker();
          return load();
        }
      }
      renderNumbers(stats);
      await renderCharts(hist.points || []);
    } catch (e) {
      fill(numbers, errorBox(e, load));
    }
  }

  function renderNumbers(s) {
    const b = s.budget;
    const item = (label, value, sub) => h('div', { class: 'card' }, h('span', { class: 'label' }, label), h('span', { class: 'value' }, value), sub ? h('span', { class: 'sub' }, sub) : null);
    fill(numbers, 
      item('Deployment p50', duration(s.p50DeploymentSeconds), 'mean ' + duration(s.avgDeploymentSeconds)),
      item('Deployment p95', duration(s.p95DeploymentSeconds)),
      item('Error rate', percent(s.errorRate), `${number(s.failedInstances)} failed, ${number(s.runningInstances)} running`),
      item('Checks / min', number(s.checksPerMinute)),
      item('API budget left', b ? `${number(b.remaining)} / ${number(b.limitPerHour)}` : '—', b ? (b.exhaustsAt ? 'runs out ' + relative(b.exhaustsAt) : b.resetAt ? 'resets ' + relative(b.resetAt) : '') : ''),
      item('Requests / min', b ? number(b.requestsPerMinute) : '—', b ? `${number(b.usedLastHour)} in the last hour` : ''),
    );
  }

  async function renderCharts(points) {
    charts.splice(0).forEach((c) => c.destroy());
    const xs = points.map((p) => unix(p.at));
    const col = (f) => points.map((p) => {
      const v = f(p);
      return v === undefined ? null : v;
    });
    const classes = Object.keys(ERROR_CLASS);
    const specs = [
      [boxes.duration, { series: [{ label: 'p50', color: '--chart-1' }, { label: 'p95', color: '--chart-4' }], data: [xs, col((p) => p.durationP50Seconds), col((p) => p.durationP95Seconds)], yFormat: (v) => (v != null && v < 10 ? v.toFixed(1) + 's' : duration(v)) }],
      [boxes.errors, { series: classes.map((c) => ({ label: ERROR_CLASS[c], color: CLASS_COLORS[c] })), data: [xs, ...classes.map((c) => col((p) => (p.finished ? ((p.failedByClass || {})[c] || 0) / p.finished : null)))], yFormat: (v) => percent(v, 0) }],
      [boxes.checks, { series: [{ label: 'checks', color: '--chart-1', fill: true }, { label: 'API requests', color: '--chart-2' }, { label: 'budget left', color: '--chart-4', scale: 'y2', value: (v) => number(v) }], data: [xs, col((p) => p.checks), col((p) => p.apiRequests), col((p) => p.budgetRemaining)], yFormat: (v) => number(v), y2: (v) => number(v) }],
    ];
    for (const [box, spec] of specs) {
      fill(box);
      const c = await timeChart(box, { height: 220, ...spec });
      if (disposed) c.destroy();
      else charts.push(c);
    }
  }

  renderPicker();
  load();
  const timer = setInterval(load, 60000);
  return () => {
    disposed = true;
    clearInterval(timer);
    charts.forEach((c) => c.destroy());
  };
}
