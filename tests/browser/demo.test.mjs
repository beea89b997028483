// The dashboard during a real `railwatch demo` run, in Debian's Chromium (playwright-core; no
// browser is ever downloaded), at a desktop's width (1440 px) and a phone's (360 px).
//
// Unlike dashboard.test.mjs, nothing here is a stand-in: the test starts the built binary
// (`railwatch demo --listen 127.0.0.1:0`), reads the dashboard's and the simulator's URLs from the
// demo's standard output, and watches the server's own answers and event stream. Per width it
// opens the fleet page, waits for the demo's sample fleet to fill the table, then starts one
// succeeding and one failing deployment in the demo's simulator, adds both through the REST API
// and waits until their rows read Active and Failed, with the page never reloaded. It then opens
// the failed instance's page and waits for its failure card and log lines. Finally it stops the
// demo with SIGINT, which must end it with exit status 0.
//
//   RAILWATCH_BINARY=build/railwatch   the binary (required)
//   CHROMIUM=/usr/bin/chromium         the browser
//   SCREENSHOT_DIR=build/browser       where the PNG screenshots go (demo-*.png)
//   BROWSER_TEST_WAIT_MS=120000        the bound of each wait (generous: the machine may be busy)
//
// Run: RAILWATCH_BINARY=build/railwatch node --test tests/browser/demo.test.mjs
// (ctest: browser.demo)

import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '../..');
const BINARY = process.env.RAILWATCH_BINARY || '';
const SHOTS = path.resolve(process.env.SCREENSHOT_DIR || path.join(repo, 'build/browser'));
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const WAIT = Number(process.env.BROWSER_TEST_WAIT_MS || 120000);
// How long the demo may take to stop after SIGINT (it finishes in-flight writes first).
const STOP_WAIT = 60000;
// The demo's sample fleet: one deployment of every lifecycle kind (src/cli/demo_command.cpp).
const SAMPLE_FLEET = 14;
const TOKEN = 'browser-demo-token';
fs.mkdirSync(SHOTS, { recursive: true });

let demo = null;
let demoExit = null; // resolves to {code, signal} when the demo process ends
let demoLog = ''; // the demo's output, the tail printed when something fails
let base = '';
let simUrl = '';
let sampleAdded = null; // [added, of] as the demo printed it
let browser = null;
let userDataDir = null;

function remember(chunk) {
  demoLog = (demoLog + chunk).slice(-20000);
}

/** Starts `railwatch demo` on a free port; resolves once it printed both URLs and added its fleet. */
async function startDemo() {
  assert.ok(BINARY, 'set RAILWATCH_BINARY to the built railwatch binary');
  demo = spawn(BINARY, ['demo', '--listen', '127.0.0.1:0'], {
    env: { ...process.env, RAILWATCH_API_TOKEN: TOKEN },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  demoExit = new Promise((resolve) => demo.on('exit', (code, signal) => resolve({ code, signal })));
  demo.stderr.on('data', remember);
  let out = '';
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the demo did not print its URLs and add its fleet in time:\n' + demoLog)), WAIT);
    demo.stdout.on('data', (d) => {
      out += d;
      remember(d);
      const dashboard = out.match(/dashboard at (http:\/\/127\.0\.0\.1:\d+)\//);
      const sim = out.match(/Railway simulator at (http:\/\/\S+)/);
      if (dashboard) base = dashboard[1];
      if (sim) simUrl = sim[1].replace(/\/$/, '');
      const added = out.match(/(\d+) of (\d+) instances added/);
      if (base && simUrl && added) {
        sampleAdded = [Number(added[1]), Number(added[2])];
        clearTimeout(timer);
        resolve();
      }
    });
    demoExit.then(({ code, signal }) => reject(new Error(`the demo exited early (${code ?? signal}):\n${demoLog}`)));
  });
  assert.doesNotMatch(base, /:0$/, 'the demo prints the port it got, not port 0');
  assert.deepEqual(sampleAdded, [SAMPLE_FLEET, SAMPLE_FLEET], 'the demo added its whole sample fleet:\n' + demoLog);
}

async function apiCall(method, p, body) {
  const res = await fetch(base + '/api/v1' + p, {
    method,
    headers: { 'Content-Type': 'application/json', Authorization: 'Bearer ' + TOKEN },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${p}: HTTP ${res.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

/** One succeeding and one failing deployment in the demo's simulator, added as instances now. */
async function startTwoDeployments(label) {
  const names = [`browser-${label}-ok`, `browser-${label}-fail`];
  for (const [kind, name] of [['success', names[0]], ['build_failed', names[1]]]) {
    const res = await fetch(simUrl + '/_sim/deployments', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ count: 1, kind }) });
    assert.equal(res.status, 201, `the simulator creates a ${kind} deployment`);
    const created = await res.json();
    const truth = await (await fetch(simUrl + '/_sim/truth?id=' + created.ids[0])).json();
    const d = truth.deployments[0];
    await apiCall('POST', '/instances', { serviceId: d.serviceId, environmentId: d.environmentId, deploymentId: d.id, projectName: name });
  }
  return names;
}

before(async () => {
  await startDemo();
  userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'railwatch-chromium-'));
  browser = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    viewport: { width: 1280, height: 800 },
  });
});

after(async () => {
  if (browser) await browser.close();
  if (userDataDir) fs.rmSync(userDataDir, { recursive: true, force: true });
  // Only when a test failed before the SIGINT test ran: never leave the demo behind.
  if (demo && demo.exitCode === null && demo.signalCode === null) demo.kill('SIGKILL');
});

async function shot(page, name) {
  await page.screenshot({ path: path.join(SHOTS, 'demo-' + name + '.png'), fullPage: false });
}

function rows(page) {
  return page.locator('.fleet-table tbody tr[data-id]');
}

function rowByName(page, name) {
  return page.locator('.fleet-table tbody tr[data-id]', { has: page.locator('a.name', { hasText: new RegExp('^' + name + '$') }) });
}

async function overflowPx(page) {
  return page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
}

const VIEWPORTS = [
  { label: 'desktop', width: 1440, height: 900 },
  { label: 'phone', width: 360, height: 780 },
];

for (const vp of VIEWPORTS) {
  describe(`the demo's dashboard at ${vp.width} px (${vp.label})`, () => {
    let page;
    const errors = [];
    let failedName = null;

    before(async () => {
      page = await browser.newPage();
      await page.setViewportSize({ width: vp.width, height: vp.height });
      // Script errors and console errors fail the test; a failed API call (4xx / 5xx) is logged
      // by Chromium as a console error, so every call these pages make must succeed.
      page.on('pageerror', (e) => errors.push('pageerror: ' + e.message));
      page.on('console', (m) => {
        if (m.type() === 'error') errors.push('console: ' + m.text() + ' ' + JSON.stringify(m.location()));
      });
    });
    after(async () => {
      await page.close();
    });

    test('the fleet table fills, and one instance reaches RUNNING and another FAILED without a reload', async () => {
      await page.goto(base + '/?token=' + encodeURIComponent(TOKEN));
      assert.ok(!page.url().includes('token='), 'the token is removed from the address bar');
      // The marker lives as long as this document: a reload or a navigation by URL drops it.
      await page.evaluate(() => (window.__sameDocument = true));
      await page.locator('#live.live').waitFor({ timeout: WAIT });
      // The sample fleet, added by the demo through the API: the page shows every instance the
      // server lists. (demo-removed turns DELETED within seconds, and the default list leaves
      // DELETED instances out, so it may be gone already.)
      const listed = (await apiCall('GET', '/instances?limit=100')).items.map((i) => i.projectName).filter((n) => n && n.startsWith('demo-'));
      assert.ok(listed.length >= SAMPLE_FLEET - 1, `the server lists the sample fleet: ${JSON.stringify(listed)}`);
      try {
        await page.waitForFunction(
          (names) => {
            const shown = new Set([...document.querySelectorAll('.fleet-table tbody tr[data-id] a.name')].map((a) => a.textContent));
            return names.every((n) => shown.has(n));
          },
          listed,
          { timeout: WAIT },
        );
      } catch (e) {
        await shot(page, `${vp.label}-fleet-sample-missing`);
        const shown = await page.evaluate(() => [...document.querySelectorAll('.fleet-table tbody tr[data-id] a.name')].map((a) => a.textContent));
        throw new Error(`the sample fleet did not fill the table: the server lists ${JSON.stringify(listed)}, the page shows ${JSON.stringify(shown)}; ${e.message}`);
      }
      await page.locator('.summary .card').first().waitFor({ timeout: WAIT });
      await shot(page, `${vp.label}-fleet-sample`);

      const [okName, failName] = await startTwoDeployments(vp.label);
      const okRow = rowByName(page, okName);
      const failRow = rowByName(page, failName);
      // Both rows arrive through the event stream, not through a reload.
      await okRow.waitFor({ timeout: WAIT });
      await failRow.waitFor({ timeout: WAIT });
      await shot(page, `${vp.label}-fleet-in-progress`);
      await okRow.locator('.pill[data-status="SUCCESS"]', { hasText: 'Active' }).waitFor({ timeout: WAIT });
      await failRow.locator('.pill[data-status="FAILED"]', { hasText: 'Failed' }).waitFor({ timeout: WAIT });
      assert.ok(await page.evaluate(() => window.__sameDocument === true), 'the page was not reloaded');
      const ok = await apiCall('GET', '/instances/' + (await okRow.getAttribute('data-id')));
      const failed = await apiCall('GET', '/instances/' + (await failRow.getAttribute('data-id')));
      assert.equal(ok.status, 'RUNNING', 'the server agrees: the succeeding instance is RUNNING');
      assert.equal(failed.status, 'FAILED', 'the server agrees: the failing instance is FAILED');
      assert.ok((await rows(page).count()) >= listed.length + 2);
      failedName = failName;
      await shot(page, `${vp.label}-fleet`);
      const overflow = await overflowPx(page);
      assert.ok(overflow <= 0, `the page is ${overflow} px wider than the window`);
      assert.deepEqual(errors, []);
    });

    test("the failed instance's page shows the failure card and its logs", async () => {
      assert.ok(failedName, 'the previous test saw a failed instance');
      await rowByName(page, failedName).locator('a.name').click();
      await page.waitForURL(/\/instances\/[^/]+$/, { timeout: WAIT });
      await page.locator('.inst-head h1').waitFor({ timeout: WAIT });
      // The failure card (GET /instances/{id}/failure) once the engine's verdict is stored.
      await page.locator('.failure-card').waitFor({ timeout: WAIT });
      assert.ok((await page.locator('.failure-card .next').textContent()).startsWith('Next step:'));
      // The step list the engine keeps from its checks: the build failed, deploying never came.
      await page.locator('.steps > li.step.failed').first().waitFor({ timeout: WAIT });
      assert.equal((await page.locator('.steps > li.step.failed > .sname').first().textContent()).trim(), 'Building');
      assert.equal((await page.locator('.steps > li.step.skipped > .sname').first().textContent()).trim(), 'Deploying');
      assert.equal(await page.locator('.steps > li.step.done > .sname').first().textContent(), 'Queued');
      // Railway's steps under Building, stored by the engine: the snapshot was done, the image's
      // build failed — and a done step reads as done inside a failed row (not in its colour).
      const snapshot = page.locator('.substeps > li.step.done', { hasText: 'snapshotting code' });
      await snapshot.waitFor({ timeout: WAIT });
      await page.locator('.substeps > li.step.failed', { hasText: 'building image' }).waitFor({ timeout: WAIT });
      const colour = (locator) => locator.evaluate((el) => getComputedStyle(el).color);
      assert.notEqual(await colour(snapshot.locator('.sname')), await colour(page.locator('.steps > li.step.failed > .sname').first()));
      // A failed deployment is not "up for 0s".
      const upFor = page.locator('.kv > span', { hasText: 'Up for' }).locator('.value');
      await upFor.waitFor({ timeout: WAIT });
      assert.equal((await upFor.textContent()).trim(), '—');
      // A build failure: its build log has the lines that explain it.
      await page.getByRole('tab', { name: 'Build logs' }).click();
      await page.locator('.log-view .line').first().waitFor({ timeout: WAIT });
      assert.ok((await page.locator('.log-view .line').count()) > 0);
      await page.locator('.timeline li').first().waitFor({ timeout: WAIT });
      // The classification's row kept the status: it says what it was, not "Failed → Failed".
      await page.locator('.timeline li strong', { hasText: 'Classified and acted on' }).first().waitFor({ timeout: WAIT });
      assert.equal(await page.locator('.timeline li', { hasText: 'Failed → Failed' }).count(), 0);
      assert.ok(await page.evaluate(() => window.__sameDocument === true), 'the link was followed in the page, without a reload');
      // The demo's instances have no interval of their own: each status's applies.
      const shown = await apiCall('GET', '/instances/' + decodeURIComponent(new URL(page.url()).pathname.split('/').pop()));
      assert.equal(shown.checkIntervalSeconds, null);
      // The engine checks it at its status's interval (the demo's FAILED: 5 s, nothing stretched).
      assert.equal(shown.effectiveIntervalSeconds, 5);
      assert.equal((await page.locator('.actions .sub').textContent()).trim(), "checked every 5s (its status's interval)");
      await shot(page, `${vp.label}-instance`);
      await page.locator('.logs').scrollIntoViewIfNeeded();
      await shot(page, `${vp.label}-instance-logs`);
      const overflow = await overflowPx(page);
      assert.ok(overflow <= 0, `the page is ${overflow} px wider than the window`);
      assert.deepEqual(errors, []);
    });

    test('health probes show the slow service DEGRADED and the failing one UNHEALTHY, live', async () => {
      // The demo's two services whose health endpoints answer in 3 s and with 503: the engine's
      // prober (every 5 s) stores each verdict and the stream brings it to the fleet table.
      await page.goto(base + '/');
      await page.evaluate(() => (window.__sameDocument = true));
      const want = { 'demo-slow-probes': 'Degraded', 'demo-failing-probes': 'Unhealthy', 'demo-success': 'Healthy' };
      const shown = () =>
        page.evaluate((names) => {
          const out = {};
          for (const a of document.querySelectorAll('.fleet-table tbody tr[data-id] a.name')) {
            if (names.includes(a.textContent)) out[a.textContent] = a.closest('tr').querySelector('.health .hlabel')?.textContent;
          }
          return out;
        }, Object.keys(want));
      try {
        await page.waitForFunction(
          (w) => {
            const rows = [...document.querySelectorAll('.fleet-table tbody tr[data-id] a.name')];
            return Object.entries(w).every(([name, label]) => {
              const a = rows.find((x) => x.textContent === name);
              return a && a.closest('tr').querySelector('.health .hlabel')?.textContent === label;
            });
          },
          want,
          { timeout: WAIT },
        );
      } catch (e) {
        await shot(page, `${vp.label}-health-missing`);
        throw new Error(`health did not reach ${JSON.stringify(want)}: the page shows ${JSON.stringify(await shown())}; ${e.message}`);
      }
      assert.ok(await page.evaluate(() => window.__sameDocument === true), 'no reload');
      // The API agrees, with the probe that decided it.
      const failing = (await apiCall('GET', '/instances?limit=100')).items.find((i) => i.projectName === 'demo-failing-probes');
      const health = await apiCall('GET', '/instances/' + failing.id + '/health');
      assert.equal(health.status, 'UNHEALTHY');
      assert.equal(health.probe.httpStatus, 503);
      await shot(page, `${vp.label}-health`);
      assert.deepEqual(errors, []);
    });

    test("the stats page draws its charts from this server's history", async () => {
      // Against the real server: the demo's finished deployments are in the timeline by now, so
      // the history (GET /stats/history, the page's default window and step) counts them.
      const since = new Date(Date.now() - 24 * 3600 * 1000).toISOString();
      const history = await apiCall('GET', '/stats/history?since=' + encodeURIComponent(since) + '&stepSeconds=900');
      const finished = history.points.reduce((sum, p) => sum + p.finished, 0);
      assert.ok(finished >= 2, `the history counts the finished deployments: ${finished}`);
      await page.goto(base + '/stats');
      await page.locator('.uplot').nth(2).waitFor({ timeout: WAIT });
      assert.ok((await page.locator('.uplot canvas').count()) >= 3, 'three charts drawn on canvases');
      // A fleet minutes old opens on the hour, not on a day with its points at the right edge.
      assert.equal(await page.locator('.segmented button[aria-pressed="true"]').innerText(), '1h');
      await shot(page, `${vp.label}-stats`);
      const overflow = await overflowPx(page);
      assert.ok(overflow <= 0, `the page is ${overflow} px wider than the window`);
      assert.deepEqual(errors, []);
    });
  });
}

describe("the demo's Python service", () => {
  test('its crash loop is classified with the setting it lacks in the next step', async () => {
    // pydantic's ValidationError for Settings, the field on the line after it: the rule table's
    // next step names DATABASE_URL, not a generic "check your configuration".
    const deadline = Date.now() + WAIT;
    let failure = null;
    while (!failure && Date.now() < deadline) {
      const item = (await apiCall('GET', '/instances?limit=100')).items.find((i) => i.projectName === 'demo-python-settings');
      assert.ok(item, 'the demo added its Python service');
      failure = (await apiCall('GET', '/instances/' + item.id + '/failure')).failure;
      if (!failure) await new Promise((resolve) => setTimeout(resolve, 500));
    }
    assert.ok(failure, 'the Python service got a verdict');
    assert.equal(failure.errorType, 'CONFIGURATION');
    assert.match(failure.nextStep, /Set DATABASE_URL in the service's variables/);
  });
});

describe('stopping the demo', () => {
  test('SIGINT stops the demo with exit status 0', async () => {
    assert.equal(demo.exitCode, null, 'the demo ran until now');
    demo.kill('SIGINT');
    const timeout = new Promise((resolve) => setTimeout(() => resolve('timeout'), STOP_WAIT));
    const ended = await Promise.race([demoExit, timeout]);
    assert.notEqual(ended, 'timeout', `the demo did not stop within ${STOP_WAIT / 1000} s of SIGINT:\n${demoLog.slice(-3000)}`);
    assert.deepEqual(ended, { code: 0, signal: null }, 'exit status 0 after SIGINT:\n' + demoLog.slice(-3000));
    assert.match(demoLog, /railwatch demo: stopping/);
  });
});
