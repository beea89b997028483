// Words, numbers and times as people read them. Pure functions.

/** Railway's words for its deployment statuses (FACTS: dashboard and CLI labels). */
const RAILWAY_LABEL = {
  SUCCESS: 'Active',
  FAILED: 'Failed',
  CRASHED: 'Crashed',
  BUILDING: 'Building',
  DEPLOYING: 'Deploying',
  INITIALIZING: 'Initializing',
  QUEUED: 'Queued',
  WAITING: 'Waiting for CI',
  NEEDS_APPROVAL: 'Awaiting approval',
  SLEEPING: 'Sleeping',
  SKIPPED: 'Skipped',
  REMOVING: 'Removing',
  REMOVED: 'Removed',
};

/** railwatch's instance statuses, used before Railway's status is known. */
const INSTANCE_LABEL = {
  INITIALIZING: 'Initializing',
  DEPLOYING: 'Deploying',
  RUNNING: 'Active',
  FAILED: 'Failed',
  DELETED: 'Deleted',
};

// Tone → colour, icon → shape; ui.md: green SUCCESS, red FAILED/CRASHED, amber while building or
// deploying, grey REMOVED/SKIPPED/SLEEPING. Never colour alone: every pill has an icon and a word.
const TONE = {
  SUCCESS: ['ok', 'check'],
  RUNNING: ['ok', 'check'],
  FAILED: ['bad', 'cross'],
  CRASHED: ['bad', 'bolt'],
  BUILDING: ['warn', 'spin'],
  DEPLOYING: ['warn', 'spin'],
  INITIALIZING: ['warn', 'spin'],
  QUEUED: ['warn', 'clock'],
  WAITING: ['warn', 'clock'],
  NEEDS_APPROVAL: ['warn', 'hand'],
  SLEEPING: ['muted', 'moon'],
  SKIPPED: ['muted', 'skip'],
  REMOVING: ['muted', 'skip'],
  REMOVED: ['muted', 'skip'],
  DELETED: ['muted', 'skip'],
};

/** The status to show for an instance: Railway's when known, else railwatch's. */
export function statusOf(instance) {
  const railway = instance.deploymentStatus;
  if (railway) return { key: railway, label: RAILWAY_LABEL[railway] || titleCase(railway), tone: (TONE[railway] || ['muted', 'dot'])[0], icon: (TONE[railway] || ['muted', 'dot'])[1] };
  const own = instance.status;
  return { key: own, label: INSTANCE_LABEL[own] || titleCase(own || 'unknown'), tone: (TONE[own] || ['muted', 'dot'])[0], icon: (TONE[own] || ['muted', 'dot'])[1] };
}

export function railwayLabel(status) {
  return RAILWAY_LABEL[status] || INSTANCE_LABEL[status] || titleCase(status || '');
}

export function toneOf(status) {
  return (TONE[status] || ['muted', 'dot'])[0];
}

export const HEALTH = {
  HEALTHY: { label: 'Healthy', tone: 'ok' },
  DEGRADED: { label: 'Degraded', tone: 'warn' },
  UNHEALTHY: { label: 'Unhealthy', tone: 'bad' },
  UNKNOWN: { label: 'Unknown', tone: 'muted' },
};

export const ERROR_CLASS = {
  CONFIGURATION: 'Configuration',
  NETWORK: 'Network',
  AUTHENTICATION: 'Authentication',
  RESOURCE: 'Resource',
  TIMEOUT: 'Timeout',
  UNKNOWN: 'Unknown',
};

export function titleCase(s) {
  return String(s)
    .toLowerCase()
    .replace(/_/g, ' ')
    .replace(/^\w/, (c) => c.toUpperCase());
}

/** "4m 12s", "1h 03m", "12s", "2d 4h"; "—" for null. */
export function duration(seconds) {
  if (seconds === null || seconds === undefined || !isFinite(seconds)) return '—';
  let s = Math.max(0, Math.round(seconds));
  if (s < 60) return s + 's';
  const d = Math.floor(s / 86400);
  s -= d * 86400;
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  if (d) return `${d}d ${h}h`;
  if (h) return `${h}h ${String(m).padStart(2, '0')}m`;
  return `${m}m ${String(s).padStart(2, '0')}s`;
}

/**
 * How often the engine checks a monitored instance, from its `effectiveIntervalSeconds` (its own
 * interval or its status's, stretched as the budget requires): "checked every 30s (its status's
 * interval)", "checked every 1m 15s (its own 30s, stretched for the budget)". A few seconds show
 * tenths ("7.5s"). Without the engine's answer: what the instance's own setting says.
 */
export function checkedEvery(inst) {
  const every = inst.effectiveIntervalSeconds;
  const own = inst.checkIntervalSeconds;
  if (every == null) return own == null ? `checked at its status's interval` : `checked every ${duration(own)}`;
  const shown = every < 10 && !Number.isInteger(every) ? every.toFixed(1) + 's' : duration(every);
  if (own == null) return `checked every ${shown} (its status's interval)`;
  return every > own + 0.5 ? `checked every ${shown} (its own ${duration(own)}, stretched for the budget)` : `checked every ${shown} (its own interval)`;
}

/** "just now", "42s ago", "3 min ago", "in 5 min"; relative to `now` (ms). */
export function relative(iso, now = Date.now()) {
  if (!iso) return '—';
  const t = Date.parse(iso);
  if (isNaN(t)) return iso;
  const diff = Math.round((now - t) / 1000);
  const abs = Math.abs(diff);
  let text;
  if (abs < 5) return 'just now';
  if (abs < 60) text = abs + 's';
  else if (abs < 3600) text = Math.floor(abs / 60) + ' min';
  else if (abs < 86400) text = Math.floor(abs / 3600) + ' h';
  else text = Math.floor(abs / 86400) + ' d';
  return diff >= 0 ? text + ' ago' : 'in ' + text;
}

/** Seconds between two RFC 3339 instants (or until now). */
export function secondsBetween(fromIso, toIso, now = Date.now()) {
  if (!fromIso) return null;
  const a = Date.parse(fromIso);
  const b = toIso ? Date.parse(toIso) : now;
  if (isNaN(a) || isNaN(b)) return null;
  return Math.max(0, (b - a) / 1000);
}

export function percent(ratio, digits = 1) {
  if (ratio === null || ratio === undefined || !isFinite(ratio)) return '—';
  return (ratio * 100).toFixed(digits).replace(/\.0+$/, '') + '%';
}

export function number(n) {
  if (n === null || n === undefined || !isFinite(n)) return '—';
  return Math.round(n).toLocaleString('en-US');
}

/** "14:03:22" in the browser's time zone, for log lines. */
export function clock(iso) {
  const t = new Date(iso);
  if (isNaN(t)) return iso || '';
  return t.toLocaleTimeString('en-GB', { hour12: false });
}
