#!/usr/bin/env node
// A throw-away stand-in for `railwatch serve`, for developing the dashboard before the real API
// exists: serves web/ (and uPlot from web/node_modules) the way the binary does, and fakes
// /api/v1 and its SSE stream with made-up data shaped exactly as interface.md and
// docs/DASHBOARD.md say. It is NOT evidence that railwatch works: the browser tests must be run
// against the real `railwatch demo` for that.
//
//   node tests/browser/fixture-server.mjs [--port 0] [--instances 240] [--token T]
// prints "fixture listening on http://127.0.0.1:PORT" when ready.
// POST /_fixture/scenario adds two deployments that go live: one becomes RUNNING, one FAILED.
// POST /_fixture/log?instanceId=ID&kind=build&message=M&times=N stores one log line and sends it
// N times on the stream (as serve may send a line again after a restart).

import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const webDir = path.resolve(here, '../../web');
const args = Object.fromEntries(process.argv.slice(2).reduce((acc, a, i, all) => (a.startsWith('--') ? [...acc, [a.slice(2), all[i + 1]]] : acc), []));
const PORT = Number(args.port ?? 0);
const COUNT = Number(args.instances ?? 240);
const TOKEN = args.token ?? process.env.FIXTURE_TOKEN ?? '';

// ---- deterministic made-up fleet -------------------------------------------------------------
let seed = 42;
function rand() {
  // mulberry32: small, fast, and exact in 32-bit integer arithmetic.
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const pick = (xs) => xs[Math.floor(rand() * xs.length)];
const hex = (n) => Array.from({ length: n }, () => Math.floor(rand() * 16).toString(16)).join('');
const uuid = () => `${hex(8)}-${hex(4)}-4${hex(3)}-a${hex(3)}-${hex(12)}`;
const iso = (ms) => new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');
const NOW = Date.now();

const PROJECTS = ['checkout-api', 'web-frontend', 'billing-worker', 'auth-service', 'search-indexer', 'notifications', 'media-proxy', 'analytics-etl', 'admin-panel', 'graphql-gateway', 'image-resizer', 'cron-runner', 'ledger', 'inventory-sync', 'email-relay', 'realtime-hub'];
const USERS = [
  { id: 'usr-ana', email: 'ana@example.com', name: 'Ana Souza' },
  { id: 'usr-ben', email: 'ben@example.com', name: 'Ben Okafor' },
  { id: 'usr-chen', email: 'chen@example.com', name: 'Chen Wei' },
];
const FAILURES = [
  { errorType: 'CONFIGURATION', reason: 'missing environment variable', message: 'Error: environment variable DATABASE_URL is not set', nextStep: 'Add DATABASE_URL to the service’s variables in Railway, then redeploy.', kind: 'deploy' },
  { errorType: 'RESOURCE', reason: 'Node.js ran out of heap memory', message: 'FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory', nextStep: 'Raise the service’s memory limit or lower its memory use (NODE_OPTIONS=--max-old-space-size), then redeploy.', kind: 'build' },
  { errorType: 'TIMEOUT', reason: 'the healthcheck never succeeded within its window', message: 'Healthcheck failed: service unavailable after 300s', nextStep: 'Check that the app listens on $PORT and answers the healthcheck path quickly.', kind: 'deploy' },
  { errorType: 'NETWORK', reason: 'a connection or request to a dependency timed out', message: 'Error: connect ETIMEDOUT 10.0.4.12:5432', nextStep: 'railwatch redeployed 3 times; check that the database is reachable from the service.', kind: 'deploy' },
  { errorType: 'CONFIGURATION', reason: 'a start or build script exited with an error', message: 'npm ERR! code ELIFECYCLE', nextStep: 'Read the build log above the ELIFECYCLE line for the failing command.', kind: 'build' },
];
const STEP_ORDER = ['QUEUED', 'INITIALIZING', 'BUILDING', 'DEPLOYING', 'SUCCESS'];
const INSTANCE_STATUS = { QUEUED: 'INITIALIZING', WAITING: 'INITIALIZING', NEEDS_APPROVAL: 'INITIALIZING', INITIALIZING: 'INITIALIZING', BUILDING: 'DEPLOYING', DEPLOYING: 'DEPLOYING', SUCCESS: 'RUNNING', SLEEPING: 'RUNNING', FAILED: 'FAILED', CRASHED: 'FAILED', SKIPPED: 'FAILED', REMOVING: 'DELETED', REMOVED: 'DELETED' };
const PROGRESS = { QUEUED: 5, WAITING: 2, NEEDS_APPROVAL: 0, INITIALIZING: 10, BUILDING: 40, DEPLOYING: 70, SUCCESS: 100, SLEEPING: 100, FAILED: 0, CRASHED: 0, SKIPPED: 0 };
const PHASE = { QUEUED: 'queued', WAITING: 'waiting for CI', NEEDS_APPROVAL: 'awaiting approval', INITIALIZING: 'initializing', BUILDING: 'building image', DEPLOYING: 'deploying', SUCCESS: 'active', SLEEPING: 'sleeping', FAILED: 'failed', CRASHED: 'crashed', SKIPPED: 'skipped', REMOVED: 'removed', REMOVING: 'removing' };
const HEALTH_OF = { SUCCESS: 'HEALTHY', SLEEPING: 'HEALTHY', FAILED: 'UNHEALTHY', CRASHED: 'UNHEALTHY', SKIPPED: 'UNHEALTHY', REMOVED: 'UNHEALTHY', REMOVING: 'UNHEALTHY' };

const instances = new Map();
const events = new Map(); // id -> transitions
const logs = new Map(); // id -> lines
const checks = new Map(); // id -> checks
const failures = new Map(); // id -> failure
const deliveries = [];
const notifications = [];

function makeChecks(id, startMs, downFrom = -1) {
  const list = [];
  for (let i = 0; i < 60; i++) {
    const at = startMs + i * 60000;
    if (at > NOW) break;
    const ok = downFrom < 0 || i < downFrom;
    list.push({ at: iso(at), ok, httpStatus: ok ? 200 : 503, latencyMs: ok ? Math.round(60 + rand() * 90 + (i % 17 === 0 ? 400 : 0)) : null, error: ok ? null : 'HTTP 503' });
  }
  checks.set(id, list);
}

function addInstance(spec) {
  const created = spec.createdAt;
  const id = spec.id || 'ins_' + hex(10);
  const st = spec.deploymentStatus;
  const completed = ['SUCCESS', 'SLEEPING', 'FAILED', 'CRASHED', 'SKIPPED', 'REMOVED'].includes(st) ? created + spec.durationS * 1000 : null;
  const user = spec.user || pick(USERS);
  const inst = {
    id,
    userId: user.id,
    projectName: spec.projectName,
    projectId: 'prj_' + hex(8),
    serviceId: 'svc_' + hex(8),
    environmentId: 'env_' + hex(8),
    deploymentId: st ? uuid() : null,
    status: st ? INSTANCE_STATUS[st] : 'INITIALIZING',
    deploymentStatus: st || null,
    progress: st ? PROGRESS[st] ?? 100 : 0,
    phase: st ? PHASE[st] : 'queued',
    etaSeconds: st && INSTANCE_STATUS[st] === 'DEPLOYING' ? 30 + Math.floor(rand() * 200) : null,
    health: HEALTH_OF[st] || 'UNKNOWN',
    errorType: spec.failure ? spec.failure.errorType : null,
    errorMessage: spec.failure ? spec.failure.message : null,
    needsAttention: !!spec.attention,
    attentionReason: spec.attention ? spec.attention.reason : null,
    attentionKind: spec.attention ? spec.attention.kind : null,
    attentionSince: spec.attention ? iso(completed || created + 60000) : null,
    incidentRelated: !!(spec.attention && spec.attention.incident),
    retryCount: spec.failure && spec.failure.errorType === 'NETWORK' ? 3 : 0,
    monitoring: st !== 'REMOVED',
    checkIntervalSeconds: spec.failure ? null : 30, // null: none of its own (the per-status intervals)
    // The engine's interval: its own, else (a failed one) its status's, stretched to a fraction.
    effectiveIntervalSeconds: st === 'REMOVED' ? null : spec.failure ? 7.5 : 30,
    createdAt: iso(created),
    deploymentStartedAt: st ? iso(created + 2000) : null,
    deploymentUpdatedAt: iso(completed || NOW - 5000),
    deploymentCompletedAt: completed ? iso(completed) : null,
    deletedAt: st === 'REMOVED' ? iso(completed) : null,
    railwayUrl: null,
    recentChecks: [],
  };
  inst.railwayUrl = inst.deploymentId ? `https://railway.com/project/${inst.projectId}/service/${inst.serviceId}?environmentId=${inst.environmentId}&id=${inst.deploymentId}` : null;
  instances.set(id, inst);
  // transitions
  const tr = [];
  let at = created;
  let prev = null;
  for (const s of STEP_ORDER) {
    if (!st) break;
    if (s === 'SUCCESS' && st !== 'SUCCESS' && st !== 'SLEEPING') break;
    tr.push({ from: prev, to: s, at: iso(at), deploymentId: inst.deploymentId, source: 'poll' });
    prev = s;
    at += (spec.durationS * 1000) / 4;
    if (s === st) break;
    if (['FAILED', 'CRASHED', 'SKIPPED', 'REMOVED'].includes(st) && s === (spec.failure && spec.failure.kind === 'build' ? 'BUILDING' : 'DEPLOYING')) {
      tr.push({ from: prev, to: st, at: iso(completed), deploymentId: inst.deploymentId, source: 'poll' });
      break;
    }
  }
  events.set(id, tr);
  // logs
  const lines = [];
  const t0 = created + 2000;
  const buildMsgs = ['[internal] load build definition from Dockerfile', '#5 [build 1/6] FROM docker.io/library/node:20-slim', '#7 [build 3/6] RUN npm ci --omit=dev', 'added 412 packages, and audited 413 packages in 9s', '#8 [build 4/6] COPY . .', '#9 [build 5/6] RUN npm run build', 'vite v5.2.0 building for production...', '✓ 1284 modules transformed.', '#10 exporting to image', 'Build time: 61.42 seconds'];
  buildMsgs.forEach((m, i) => lines.push({ timestamp: iso(t0 + i * 4000), severity: i === 6 ? 'warn' : 'info', message: m, kind: 'build' }));
  const deployMsgs = ['Starting Container', '> app@1.4.2 start', '> node dist/server.js', 'listening on 0.0.0.0:8080', 'connected to postgres (pool size 10)', 'GET /healthz 200 2ms', 'GET /api/orders 200 41ms', 'slow query: SELECT * FROM orders WHERE … (812 ms)', 'GET /api/orders/9f1 200 12ms'];
  deployMsgs.forEach((m, i) => lines.push({ timestamp: iso(t0 + 60000 + i * 5000), severity: m.startsWith('slow') ? 'warn' : 'info', message: m, kind: 'deploy' }));
  if (spec.failure) {
    const f = spec.failure;
    const ts = iso((completed || NOW) - 3000);
    lines.push({ timestamp: iso((completed || NOW) - 5000), severity: 'info', message: f.kind === 'build' ? '#9 [build 5/6] RUN npm run build' : '> node dist/server.js', kind: f.kind });
    lines.push({ timestamp: ts, severity: 'error', message: f.message, kind: f.kind });
    lines.push({ timestamp: iso((completed || NOW) - 1000), severity: 'error', message: f.kind === 'build' ? 'ERROR: failed to solve: process "/bin/sh -c npm run build" did not complete successfully: exit code: 1' : 'Process exited with code 1', kind: f.kind });
    failures.set(id, { errorType: f.errorType, title: titleFor(f.errorType), reason: f.reason, message: f.message, decidingLine: { timestamp: ts, severity: 'error', message: f.message, kind: f.kind }, nextStep: f.nextStep, failedStep: f.kind === 'build' ? 'BUILD_IMAGE' : 'HEALTHCHECK', at: iso(completed || NOW) });
  }
  logs.set(id, lines.sort((a, b) => a.timestamp.localeCompare(b.timestamp)));
  if (st === 'SUCCESS') makeChecks(id, NOW - 59 * 60000, rand() < 0.1 ? 40 + Math.floor(rand() * 10) : -1);
  if (st === 'CRASHED') makeChecks(id, NOW - 59 * 60000, 30);
  if (!checks.has(id)) checks.set(id, []);
  const ch = checks.get(id);
  if (st === 'SUCCESS' && ch.length && !ch[ch.length - 1].ok) inst.health = 'UNHEALTHY';
  inst.recentChecks = ch.slice(-20).map(({ at: a, ok, latencyMs }) => ({ at: a, ok, latencyMs }));
  if (spec.failure) {
    const n = { id: 'ntf_' + hex(10), userId: inst.userId, instanceId: id, type: 'DEPLOYMENT_FAILED', title: `${inst.projectName}: deployment failed`, message: `${f2(spec.failure)} — ${spec.failure.nextStep}`, createdAt: iso(completed || NOW), readAt: rand() < 0.5 ? iso(NOW - 1000) : null };
    notifications.push(n);
    for (const channel of ['email', 'webhook', 'in_app']) {
      const status = channel === 'webhook' && rand() < 0.4 ? pick(['failed', 'dead']) : rand() < 0.05 ? 'pending' : 'sent';
      deliveries.push({ id: 'dlv_' + hex(10), notificationId: n.id, notificationType: n.type, title: n.title, instanceId: id, projectName: inst.projectName, channel, recipient: channel === 'email' ? user.email : channel === 'webhook' ? 'https://hooks.example.com/railwatch' : user.id, status, attempts: status === 'sent' ? 1 : status === 'dead' ? 10 : status === 'failed' ? 3 : 0, lastError: status === 'failed' ? 'HTTP 502 from hooks.example.com' : status === 'dead' ? 'HTTP 410 Gone: endpoint disabled' : null, createdAt: n.createdAt, sentAt: status === 'sent' ? n.createdAt : null, nextAttemptAt: status === 'failed' ? iso(NOW + 300000) : null });
    }
  }
  return inst;
}
function f2(f) {
  return f.reason.charAt(0).toUpperCase() + f.reason.slice(1);
}
function titleFor(t) {
  return { CONFIGURATION: 'Configuration error', RESOURCE: 'Out of resources', TIMEOUT: 'Deployment timed out', NETWORK: 'Network error', AUTHENTICATION: 'Authentication error', UNKNOWN: 'Unknown error' }[t];
}

for (let i = 0; i < COUNT; i++) {
  const r = rand();
  const created = NOW - Math.floor(rand() * 3 * 86400000) - 600000;
  const spec = { projectName: pick(PROJECTS) + (i % 7 === 0 ? '-staging' : ''), createdAt: created, durationS: 60 + Math.floor(rand() * 360) };
  if (r < 0.66) spec.deploymentStatus = rand() < 0.06 ? 'SLEEPING' : 'SUCCESS';
  else if (r < 0.78) {
    spec.deploymentStatus = rand() < 0.7 ? 'FAILED' : 'CRASHED';
    spec.failure = pick(FAILURES);
    if (spec.failure.errorType !== 'NETWORK' || rand() < 0.5) spec.attention = spec.deploymentStatus === 'CRASHED' && rand() < 0.5 ? { kind: 'crash_loop', reason: 'crashed 3 times in 10 minutes' } : { kind: 'failed', reason: `${spec.failure.errorType.toLowerCase()} error: ${spec.failure.reason}` };
  } else if (r < 0.86) {
    spec.deploymentStatus = pick(['BUILDING', 'DEPLOYING']);
    spec.createdAt = NOW - Math.floor(rand() * 240000);
    if (rand() < 0.15) {
      spec.createdAt = NOW - 1500000;
      spec.attention = { kind: 'stuck', reason: `no progress while ${spec.deploymentStatus.toLowerCase()} for 20 min (deadline 10 min)`, incident: rand() < 0.5 };
    }
  } else if (r < 0.93) {
    spec.deploymentStatus = pick(['QUEUED', 'INITIALIZING', 'WAITING', 'NEEDS_APPROVAL']);
    spec.createdAt = NOW - Math.floor(rand() * 120000);
  } else spec.deploymentStatus = 'REMOVED';
  addInstance(spec);
}

// ---- events (SSE) ------------------------------------------------------------------------------
let eventId = 0;
const history = []; // recent events for Last-Event-ID
const clients = new Set();

function publish(name, data, instanceId = null) {
  const ev = { id: String(++eventId), name, data, instanceId };
  history.push(ev);
  if (history.length > 1000) history.shift();
  for (const c of clients) send(c, ev);
}
function send(c, ev) {
  if (c.instanceId && ev.instanceId !== c.instanceId) return;
  if (ev.name === 'log' && !c.instanceId) return;
  c.res.write(`id: ${ev.id}\nevent: ${ev.name}\ndata: ${JSON.stringify(ev.data)}\n\n`);
}

function update(inst, changes) {
  const before = inst.deploymentStatus;
  Object.assign(inst, changes, { deploymentUpdatedAt: iso(Date.now()) });
  if (changes.deploymentStatus && changes.deploymentStatus !== before) {
    const tr = { instanceId: inst.id, deploymentId: inst.deploymentId, from: before, to: changes.deploymentStatus, at: iso(Date.now()), source: 'poll' };
    events.get(inst.id).push(tr);
    publish('transition', tr, inst.id);
  }
  publish('instance', inst, inst.id);
}

function log(inst, kind, message, severity = 'info') {
  const l = { timestamp: iso(Date.now()), severity, message, kind };
  logs.get(inst.id).push(l);
  publish('log', { instanceId: inst.id, deploymentId: inst.deploymentId, ...l }, inst.id);
}

// The scripted part: two new deployments that finish while the page is open.
let scenarioRuns = 0;
function scenario(stepMs = 1200) {
  scenarioRuns++;
  const suffix = scenarioRuns === 1 ? '' : '-' + scenarioRuns;
  const mk = (name) => {
    const inst = addInstance({ projectName: name + suffix, createdAt: Date.now(), durationS: 0, user: USERS[0] });
    Object.assign(inst, { deploymentId: uuid(), deploymentStatus: 'QUEUED', status: 'INITIALIZING', progress: 5, phase: 'queued', etaSeconds: 12, deploymentStartedAt: iso(Date.now()), deploymentCompletedAt: null, health: 'UNKNOWN', recentChecks: [], needsAttention: false });
    events.set(inst.id, [{ from: null, to: 'QUEUED', at: iso(Date.now()), deploymentId: inst.deploymentId, source: 'api' }]);
    logs.set(inst.id, []);
    checks.set(inst.id, []);
    failures.delete(inst.id);
    publish('instance', inst, inst.id);
    return inst;
  };
  const ok = mk('browser-test-ok');
  const bad = mk('browser-test-fail');
  const plan = [
    () => { update(ok, { deploymentStatus: 'INITIALIZING', status: 'INITIALIZING', progress: 10, phase: 'initializing', etaSeconds: 10 }); update(bad, { deploymentStatus: 'INITIALIZING', progress: 10, phase: 'initializing', etaSeconds: 10 }); },
    () => { update(ok, { deploymentStatus: 'BUILDING', status: 'DEPLOYING', progress: 45, phase: 'building image', etaSeconds: 8 }); update(bad, { deploymentStatus: 'BUILDING', status: 'DEPLOYING', progress: 42, phase: 'building image', etaSeconds: 9 }); log(ok, 'build', '#7 [build 3/6] RUN npm ci'); log(bad, 'build', '#7 [build 3/6] RUN npm ci'); },
    () => { log(bad, 'build', 'FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory', 'error'); const f = FAILURES[1]; failures.set(bad.id, { errorType: f.errorType, title: titleFor(f.errorType), reason: f.reason, message: f.message, decidingLine: logs.get(bad.id).at(-1), nextStep: f.nextStep, failedStep: 'BUILD_IMAGE', at: iso(Date.now()) }); update(bad, { deploymentStatus: 'FAILED', status: 'FAILED', progress: 0, phase: 'failed', etaSeconds: null, health: 'UNHEALTHY', errorType: 'RESOURCE', errorMessage: f.message, deploymentCompletedAt: iso(Date.now()), needsAttention: true, attentionKind: 'failed', attentionReason: 'resource error: Node.js ran out of heap memory', attentionSince: iso(Date.now()) }); const n = { id: 'ntf_' + hex(10), userId: bad.userId, instanceId: bad.id, type: 'DEPLOYMENT_FAILED', title: `${bad.projectName}: deployment failed`, message: 'Node.js ran out of heap memory', createdAt: iso(Date.now()), readAt: null }; notifications.push(n); publish('notification', n, bad.id); update(ok, { deploymentStatus: 'DEPLOYING', status: 'DEPLOYING', progress: 72, phase: 'deploying', etaSeconds: 4 }); log(ok, 'deploy', 'Starting Container'); },
    () => { log(ok, 'deploy', 'listening on 0.0.0.0:8080'); update(ok, { progress: 90, phase: 'healthcheck', etaSeconds: 2 }); },
    () => { update(ok, { deploymentStatus: 'SUCCESS', status: 'RUNNING', progress: 100, phase: 'active', etaSeconds: null, health: 'HEALTHY', deploymentCompletedAt: iso(Date.now()) }); },
  ];
  plan.forEach((f, i) => setTimeout(f, stepMs * (i + 1)));
  return { ids: [ok.id, bad.id] };
}

// Health checks keep arriving for running instances, as the prober's would.
setInterval(() => {
  const running = [...instances.values()].filter((i) => i.status === 'RUNNING').slice(0, 400);
  for (let k = 0; k < 5 && running.length; k++) {
    const inst = pick(running);
    const ok = rand() > 0.04;
    const c = { at: iso(Date.now()), ok, httpStatus: ok ? 200 : 503, latencyMs: ok ? Math.round(60 + rand() * 100) : null, error: ok ? null : 'HTTP 503' };
    checks.get(inst.id).push(c);
    inst.recentChecks = [...inst.recentChecks, { at: c.at, ok, latencyMs: c.latencyMs }].slice(-20);
    publish('health', { instanceId: inst.id, status: inst.health, reasons: [], ...c }, inst.id);
  }
}, 2000);

// ---- REST ----------------------------------------------------------------------------------
function stats() {
  const all = [...instances.values()];
  const by = (f) => all.reduce((m, i) => ((m[f(i)] = (m[f(i)] || 0) + 1), m), {});
  const live = all.filter((i) => i.status !== 'DELETED');
  const running = live.filter((i) => i.status === 'RUNNING').length;
  const failed = live.filter((i) => i.status === 'FAILED').length;
  const durations = live.filter((i) => i.deploymentCompletedAt && i.deploymentStartedAt).map((i) => (Date.parse(i.deploymentCompletedAt) - Date.parse(i.deploymentStartedAt)) / 1000).sort((a, b) => a - b);
  const q = (p) => (durations.length ? durations[Math.min(durations.length - 1, Math.floor(p * durations.length))] : null);
  return {
    totalInstances: live.length,
    runningInstances: running,
    failedInstances: failed,
    pendingInstances: live.length - running - failed,
    avgDeploymentSeconds: durations.length ? durations.reduce((a, b) => a + b, 0) / durations.length : null,
    p50DeploymentSeconds: q(0.5),
    p95DeploymentSeconds: q(0.95),
    errorRate: running + failed ? failed / (running + failed) : 0,
    byStatus: by((i) => i.status),
    byHealth: by((i) => i.health),
    byErrorType: by((i) => i.errorType || 'none'),
    needsAttention: all.filter((i) => i.needsAttention).length,
    checksPerMinute: 150,
    budget: { limitPerHour: 1000, remaining: 412, usedLastHour: 588, requestsPerMinute: 9.8, resetAt: iso(NOW + 1260000), exhaustsAt: iso(Date.now() + 2520000) },
    incident: { status: 'investigating', message: 'Builds are slower than usual in us-west', url: 'https://status.railway.com/', startedAt: iso(NOW - 2400000) },
    generatedAt: iso(Date.now()),
  };
}

function historyPoints(sinceIso, step) {
  const since = Date.parse(sinceIso);
  const points = [];
  for (let t = Math.floor(since / 1000 / step) * step * 1000; t <= Date.now(); t += step * 1000) {
    const x = (t / 1000 / step) % 24;
    const finished = 20 + Math.round(10 * Math.sin(x / 3) + rand() * 6);
    points.push({
      at: iso(t),
      finished,
      failed: 0,
      durationP50Seconds: 150 + Math.round(30 * Math.sin(x / 4) + rand() * 20),
      durationP95Seconds: 320 + Math.round(70 * Math.sin(x / 5) + rand() * 60),
      failedByClass: { CONFIGURATION: Math.round(rand() * 3), NETWORK: Math.round(rand() * 1.4), AUTHENTICATION: rand() < 0.05 ? 1 : 0, RESOURCE: Math.round(rand() * 1.2), TIMEOUT: Math.round(rand() * 1.5), UNKNOWN: rand() < 0.1 ? 1 : 0 },
      checks: Math.round(step * 2.5 * (0.9 + rand() * 0.2)),
      apiRequests: Math.round(step / 6 * (0.8 + rand() * 0.4)),
      budgetRemaining: Math.max(0, 1000 - Math.round(((t / 1000) % 3600) / 3600 * 700 + rand() * 20)),
    });
    points.at(-1).failed = Object.values(points.at(-1).failedByClass).reduce((a, b) => a + b, 0);
  }
  return points;
}

function listInstances(q) {
  const lists = (k) => (q.get(k) ? q.get(k).split(',') : []);
  const status = lists('status');
  const health = lists('health');
  const errorType = lists('errorType');
  const attention = q.get('needsAttention') === 'true';
  const needle = (q.get('q') || '').toLowerCase();
  let items = [...instances.values()].filter((i) => (!status.length || status.includes(i.status)) && (!health.length || health.includes(i.health)) && (!errorType.length || errorType.includes(i.errorType)) && (!attention || i.needsAttention) && (!needle || [i.id, i.projectName, i.serviceId, i.deploymentId, i.environmentId].filter(Boolean).join(' ').toLowerCase().includes(needle)));
  items.sort((a, b) => b.createdAt.localeCompare(a.createdAt) || b.id.localeCompare(a.id));
  const limit = Math.min(500, Number(q.get('limit') || 50));
  const offset = q.get('cursor') ? Number(Buffer.from(q.get('cursor'), 'base64url').toString()) : 0;
  const page = items.slice(offset, offset + limit);
  return { items: page, nextCursor: offset + limit < items.length ? Buffer.from(String(offset + limit)).toString('base64url') : null, ...(q.get('count') === 'true' ? { totalCount: items.length } : {}) };
}

function progressOf(inst) {
  const order = ['QUEUED', 'INITIALIZING', 'BUILDING', 'DEPLOYING', 'SUCCESS'];
  const tr = events.get(inst.id) || [];
  const failedAt = ['FAILED', 'CRASHED', 'SKIPPED'].includes(inst.deploymentStatus);
  const medians = { QUEUED: 4, INITIALIZING: 9, BUILDING: 72, DEPLOYING: 41, SUCCESS: null };
  const steps = order.map((name) => {
    const i = tr.findIndex((t) => t.to === name);
    const next = i >= 0 ? tr[i + 1] : null;
    let state = 'pending';
    if (i >= 0) state = next ? 'done' : name === 'SUCCESS' ? 'done' : 'active';
    if (i >= 0 && next && ['FAILED', 'CRASHED', 'SKIPPED'].includes(next.to)) state = 'failed';
    if (failedAt && i < 0) state = 'skipped';
    const startedAt = i >= 0 ? tr[i].at : null;
    const completedAt = next ? next.at : name === 'SUCCESS' && i >= 0 ? tr[i].at : null;
    return { name, label: { QUEUED: 'Queued', INITIALIZING: 'Initializing', BUILDING: 'Building', DEPLOYING: 'Deploying', SUCCESS: 'Active' }[name], state, startedAt, completedAt, durationSeconds: startedAt && completedAt && name !== 'SUCCESS' ? (Date.parse(completedAt) - Date.parse(startedAt)) / 1000 : null, medianSeconds: medians[name], substeps: name === 'BUILDING' && i >= 0 ? [{ name: 'SNAPSHOT_CODE', label: 'snapshot code', state: 'done', durationSeconds: 3, medianSeconds: 3 }, { name: 'BUILD_IMAGE', label: 'building image', state: state === 'failed' ? 'failed' : state, durationSeconds: state === 'done' ? 58 : null, medianSeconds: 61 }] : [] };
  });
  return { instanceId: inst.id, deploymentId: inst.deploymentId, progress: inst.progress, phase: inst.phase, etaSeconds: inst.etaSeconds, stepAware: true, steps };
}

function json(res, status, body) {
  res.writeHead(status, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
  res.end(body === undefined ? '' : JSON.stringify(body));
}
function notFound(res, what = 'no such resource') {
  json(res, 404, { error: { code: 'not_found', message: what } });
}

function api(req, res, url) {
  if (TOKEN && req.headers.authorization !== 'Bearer ' + TOKEN) return json(res, 401, { error: { code: 'unauthorized', message: 'Send Authorization: Bearer <RAILWATCH_API_TOKEN>.' } });
  const p = url.pathname.slice('/api/v1'.length);
  const q = url.searchParams;
  let m;
  if (p === '/stream') return stream(req, res, q);
  if (p === '/stats') return json(res, 200, stats());
  if (p === '/stats/history') return json(res, 200, { since: q.get('since'), until: iso(Date.now()), stepSeconds: Number(q.get('stepSeconds')), points: historyPoints(q.get('since') || iso(NOW - 86400000), Number(q.get('stepSeconds') || 900)) });
  if (p === '/instances') return json(res, 200, listInstances(q));
  if (p === '/attention') return json(res, 200, { items: [...instances.values()].filter((i) => i.needsAttention).map((i) => ({ ...i, user: USERS.find((u) => u.id === i.userId) })) });
  if (p === '/notifications') {
    let items = [...notifications].sort((a, b) => b.createdAt.localeCompare(a.createdAt));
    if (q.get('instanceId')) items = items.filter((n) => n.instanceId === q.get('instanceId'));
    const unreadCount = items.filter((n) => !n.readAt).length;
    if (q.get('unread') === 'true') items = items.filter((n) => !n.readAt);
    return json(res, 200, { items: items.slice(0, Number(q.get('limit') || 100)), unreadCount, nextCursor: null });
  }
  if ((m = p.match(/^\/notifications\/([^/]+)\/read$/)) && req.method === 'POST') {
    const n = notifications.find((x) => x.id === m[1]);
    if (!n) return notFound(res);
    n.readAt = n.readAt || iso(Date.now());
    return json(res, 200, n);
  }
  if (p === '/deliveries') {
    let items = [...deliveries].sort((a, b) => b.createdAt.localeCompare(a.createdAt));
    if (q.get('status')) items = items.filter((d) => d.status === q.get('status'));
    if (q.get('instanceId')) items = items.filter((d) => d.instanceId === q.get('instanceId'));
    return json(res, 200, { items: items.slice(0, Number(q.get('limit') || 100)), nextCursor: null });
  }
  if ((m = p.match(/^\/deliveries\/([^/]+)\/replay$/)) && req.method === 'POST') {
    const d = deliveries.find((x) => x.id === m[1]);
    if (!d) return notFound(res);
    Object.assign(d, { status: 'pending', nextAttemptAt: iso(Date.now()) });
    publish('delivery', d, d.instanceId);
    return json(res, 202, d);
  }
  if (!(m = p.match(/^\/instances\/([^/]+)(\/.*)?$/))) return notFound(res);
  const inst = instances.get(decodeURIComponent(m[1]));
  if (!inst) return notFound(res, `no instance ${m[1]}`);
  const sub = m[2] || '';
  if (sub === '') return json(res, 200, inst);
  if (sub === '/progress') return json(res, 200, progressOf(inst));
  if (sub === '/failure') return json(res, 200, { instanceId: inst.id, failure: failures.get(inst.id) || null });
  if (sub === '/logs') {
    const kind = q.get('kind');
    const items = (logs.get(inst.id) || []).filter((l) => !kind || l.kind === kind);
    return json(res, 200, { items: items.slice(-Number(q.get('limit') || 100)) });
  }
  if (sub === '/health') {
    const ch = checks.get(inst.id) || [];
    const up = ch.filter((c) => c.ok).length;
    return json(res, 200, { instanceId: inst.id, status: inst.health, uptimeSeconds: inst.status === 'RUNNING' ? (Date.now() - Date.parse(inst.deploymentCompletedAt || inst.createdAt)) / 1000 : 0, upSince: inst.status === 'RUNNING' ? inst.deploymentCompletedAt || inst.createdAt : null, lastCheckedAt: ch.length ? ch.at(-1).at : null, reasons: inst.health === 'HEALTHY' ? ['Railway reports the deployment active; the last probe answered 200'] : inst.health === 'UNHEALTHY' ? ['the deployment failed'] : ['no verdict while the deployment is in progress'], probe: ch.length ? { url: 'https://' + inst.projectName + '.up.railway.app/healthz', verdict: ch.at(-1).ok ? 'passing' : 'failing', consecutiveFailures: 0, consecutiveSuccesses: 3 } : null, uptimePercent: ch.length ? (100 * up) / ch.length : null, uptimeWindowSeconds: 86400 });
  }
  if (sub === '/health/checks') return json(res, 200, { instanceId: inst.id, items: (checks.get(inst.id) || []).slice(-Number(q.get('limit') || 100)) });
  if (sub === '/events') return json(res, 200, { items: events.get(inst.id) || [] });
  if (sub === '/redeploy' && req.method === 'POST') {
    log(inst, 'deploy', 'redeploy requested from the dashboard');
    return json(res, 202, { instanceId: inst.id, requestedAt: iso(Date.now()) });
  }
  if (sub === '/monitoring' && req.method === 'PUT') {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const b = JSON.parse(body || '{}');
      update(inst, { monitoring: !!b.enabled, effectiveIntervalSeconds: b.enabled ? (inst.checkIntervalSeconds ?? 7.5) : null });
      json(res, 200, inst);
    });
    return;
  }
  return notFound(res);
}

function stream(req, res, q) {
  res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache', Connection: 'keep-alive' });
  res.write(': railwatch fixture stream\n\n');
  const client = { res, instanceId: q.get('instanceId') || null };
  const last = req.headers['last-event-id'];
  if (last) {
    const missed = history.filter((e) => Number(e.id) > Number(last));
    if (history.length && Number(history[0].id) > Number(last) + 1) res.write(`id: ${eventId}\nevent: reset\ndata: {}\n\n`);
    else missed.forEach((e) => send(client, e));
  }
  clients.add(client);
  const keepAlive = setInterval(() => res.write(': keep-alive\n\n'), 15000);
  req.on('close', () => {
    clearInterval(keepAlive);
    clients.delete(client);
  });
}

// ---- static files (what FindAsset serves) ----------------------------------------------------
const TYPES = { '.html': 'text/html; charset=utf-8', '.css': 'text/css; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.svg': 'image/svg+xml' };
function asset(res, urlPath) {
  let file;
  if (urlPath.startsWith('/vendor/')) file = path.join(webDir, 'node_modules/uplot/dist', path.basename(urlPath));
  else if (urlPath === '/' || /^\/(attention|stats|notifications)$/.test(urlPath) || /^\/instances\/[^/]+$/.test(urlPath)) file = path.join(webDir, 'index.html');
  else file = path.join(webDir, path.normalize(urlPath).replace(/^(\.\.[/\\])+/, ''));
  if (!file.startsWith(webDir) || file.includes('node_modules/.') || !fs.existsSync(file) || fs.statSync(file).isDirectory() || !TYPES[path.extname(file)]) {
    res.writeHead(404, { 'Content-Type': 'text/plain' });
    return res.end('not found');
  }
  res.writeHead(200, {
    'Content-Type': TYPES[path.extname(file)],
    'Cache-Control': 'no-cache',
    'Content-Security-Policy': "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'",
    'X-Content-Type-Options': 'nosniff',
  });
  fs.createReadStream(file).pipe(res);
}

const server = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://localhost');
  if (url.pathname.startsWith('/api/v1/')) return api(req, res, url);
  if (url.pathname === '/_fixture/scenario' && req.method === 'POST') return json(res, 201, scenario(Number(url.searchParams.get('stepMs') || 1200)));
  if (url.pathname === '/_fixture/log' && req.method === 'POST') {
    const inst = instances.get(url.searchParams.get('instanceId'));
    if (!inst) return json(res, 404, { error: { code: 'not_found', message: 'no such instance' } });
    const l = { timestamp: iso(Date.now()), severity: 'info', message: url.searchParams.get('message') || 'line', kind: url.searchParams.get('kind') || 'deploy' };
    if (!logs.has(inst.id)) logs.set(inst.id, []);
    logs.get(inst.id).push(l);
    for (let i = 0; i < Number(url.searchParams.get('times') || 1); i++) publish('log', { instanceId: inst.id, deploymentId: inst.deploymentId, ...l }, inst.id);
    return json(res, 201, l);
  }
  if (url.pathname === '/healthz') return json(res, 200, { ok: true });
  if (req.method !== 'GET' && req.method !== 'HEAD') return json(res, 405, { error: { code: 'method_not_allowed', message: 'GET only' } });
  return asset(res, url.pathname);
});
server.listen(PORT, '127.0.0.1', () => {
  console.log(`fixture listening on http://127.0.0.1:${server.address().port}`);
});
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(0));
