// The dashboard in a real browser (Debian's Chromium through playwright-core; no browser is ever
// downloaded), once at a desktop's width and once at a phone's (360 px).
//
//   RAILWATCH_URL=http://127.0.0.1:8080   the server to test (`railwatch demo` / `serve`); when
//                                         unset, tests/browser/fixture-server.mjs is started
//   RAILWATCH_API_TOKEN=…                 its API token, if it has one
//   RAILWATCH_SIM_URL=http://127.0.0.1:…  optional: the simulator behind that server; the test
//                                         then creates one succeeding and one failing deployment
//                                         there and adds them as instances through the API
//   CHROMIUM=/usr/bin/chromium            the browser
//   SCREENSHOT_DIR=build/browser          where the PNG screenshots go
//
// Run: node --test tests/browser/   (or `make browser-test`)

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
const SHOTS = path.resolve(process.env.SCREENSHOT_DIR || path.join(repo, 'build/browser'));
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const WAIT = Number(process.env.BROWSER_TEST_WAIT_MS || 60000);
fs.mkdirSync(SHOTS, { recursive: true });

let base = process.env.RAILWATCH_URL || '';
let token = process.env.RAILWATCH_API_TOKEN || '';
const simUrl = process.env.RAILWATCH_SIM_URL || '';
let fixture = null;
let browser = null;
let userDataDir = null;

async function startFixture() {
  token = token || 'browser-test-token';
  fixture = spawn(process.execPath, [path.join(here, 'fixture-server.mjs'), '--port', '0', '--token', token], { stdio: ['ignore', 'pipe', 'inherit'] });
  base = await new Promise((resolve, reject) => {
    let out = '';
    fixture.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/listening on (http:\/\/\S+)/);
      if (m) resolve(m[1]);
    });
    fixture.on('exit', (code) => reject(new Error('fixture server exited with ' + code)));
  });
}

async function apiCall(method, p, body) {
  const res = await fetch(base + '/api/v1' + p, { method, headers: { 'Content-Type': 'application/json', ...(token ? { Authorization: 'Bearer ' + token } : {}) }, body: body ? JSON.stringify(body) : undefined });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${p}: HTTP ${res.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

/**
 * Makes two deployments start now: one that will succeed and one that will fail. Returns their
 * project names, or null when there is no way to (then the test watches what the server does).
 */
async function startTwoDeployments(run) {
  if (fixture) {
    const res = await fetch(base + '/_fixture/scenario?stepMs=1500', { method: 'POST' });
    assert.equal(res.status, 201);
    return run === 1 ? ['browser-test-ok', 'browser-test-fail'] : [`browser-test-ok-${run}`, `browser-test-fail-${run}`];
  }
  if (!simUrl) return null;
  const names = [`browser-test-ok-${Date.now()}`, `browser-test-fail-${Date.now()}`];
  for (const [kind, name] of [['success', names[0]], ['build_failed', names[1]]]) {
    const created = await (await fetch(simUrl + '/_sim/deployments', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ count: 1, kind }) })).json();
    const truth = await (await fetch(simUrl + '/_sim/truth?id=' + created.ids[0])).json();
    const d = truth.deployments[0];
    await apiCall('POST', '/instances', { serviceId: d.serviceId, environmentId: d.environmentId, deploymentId: d.id, projectName: name });
  }
  return names;
}

before(async () => {
  if (!base) await startFixture();
  base = base.replace(/\/$/, '');
  userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'railwatch-chromium-'));
  // A persistent context is what gives Chromium a fresh --user-data-dir of our choosing.
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
  if (fixture) fixture.kill('SIGTERM');
});

/** A fresh page (fresh sessionStorage) at the given size and colour scheme, collecting errors. */
async function openPage(width, height, colorScheme = 'light') {
  const page = await browser.newPage();
  await page.setViewportSize({ width, height });
  await page.emulateMedia({ colorScheme });
  const errors = [];
  page.on('pageerror', (e) => errors.push('pageerror: ' + e.message));
  // The API gets no empty parameters (`status=`): a server may rightly reject them.
  page.on('request', (r) => {
    const url = r.url();
    if (url.includes('/api/v1/') && /[?&][^=&]+=(&|$)/.test(url)) errors.push('empty query parameter: ' + url);
  });
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push('console: ' + m.text());
  });
  return { page, errors };
}

async function shot(page, name) {
  const file = path.join(SHOTS, name + '.png');
  await page.screenshot({ path: file, fullPage: false });
  return file;
}

function rowByName(page, name) {
  return page.locator('.fleet-table tbody tr[data-id]', { has: page.locator('a.name', { hasText: new RegExp('^' + name + '$') }) });
}

const VIEWPORTS = [
  { label: 'desktop', width: 1440, height: 900 },
  { label: 'phone', width: 360, height: 780 },
];

let runs = 0;
for (const vp of VIEWPORTS) {
  describe(`dashboard at ${vp.width} px (${vp.label})`, () => {
    let page;
    let errors;
    let failedName = null;

    before(async () => {
      ({ page, errors } = await openPage(vp.width, vp.height));
    });
    after(async () => {
      await page.close();
    });

    test('the fleet table fills, and one instance reaches RUNNING and another FAILED without a reload', async () => {
      await page.goto(base + '/' + (token ? '?token=' + encodeURIComponent(token) : ''));
      assert.ok(!page.url().includes('token='), 'the token is removed from the address bar');
      await page.locator('.fleet-table tbody tr[data-id]').first().waitFor({ timeout: WAIT });
      assert.ok((await page.locator('.fleet-table tbody tr[data-id]').count()) > 0);
      await page.locator('.summary .card').first().waitFor({ timeout: WAIT });
      await page.locator('#live.live').waitFor({ timeout: WAIT });
      await page.evaluate(() => (window.__sameDocument = true));

      const names = await startTwoDeployments(++runs);
      let okRow;
      let failRow;
      if (names) {
        okRow = rowByName(page, names[0]);
        failRow = rowByName(page, names[1]);
        await okRow.waitFor({ timeout: WAIT });
        await failRow.waitFor({ timeout: WAIT });
        await shot(page, `${vp.label}-fleet-in-progress`);
      } else {
        // No way to start deployments: follow two rows that are in progress now.
        const moving = page.locator('.fleet-table tbody tr[data-id]:has(.pill.warn)');
        await moving.nth(1).waitFor({ timeout: WAIT });
        okRow = page.locator('.fleet-table tbody tr[data-id]:has(.pill[data-status="SUCCESS"])').first();
        failRow = page.locator('.fleet-table tbody tr[data-id]:has(.pill[data-status="FAILED"])').first();
      }
      await okRow.locator('.pill[data-status="SUCCESS"]', { hasText: 'Active' }).waitFor({ timeout: WAIT });
      await failRow.locator('.pill[data-status="FAILED"]', { hasText: 'Failed' }).waitFor({ timeout: WAIT });
      assert.equal(await okRow.locator('.c-health .hlabel').textContent(), 'Healthy');
      assert.ok(await page.evaluate(() => window.__sameDocument === true), 'the page was not reloaded');
      failedName = await failRow.locator('a.name').textContent();
      await shot(page, `${vp.label}-fleet`);

      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert.ok(overflow <= 0, `the page is ${overflow} px wider than the window`);
      assert.deepEqual(errors, []);
    });

    test('an instance page shows the failure card and its logs', async () => {
      assert.ok(failedName, 'the previous test found a failed instance');
      await rowByName(page, failedName).locator('a.name').click();
      await page.waitForURL(/\/instances\/[^/]+$/, { timeout: WAIT });
      await page.locator('.inst-head h1').waitFor({ timeout: WAIT });
      await page.locator('.failure-card').waitFor({ timeout: WAIT });
      assert.ok((await page.locator('.failure-card .next').textContent()).startsWith('Next step:'));
      await page.locator('.log-view .line').first().waitFor({ timeout: WAIT });
      await page.getByRole('tab', { name: 'Build logs' }).click();
      await page.locator('.log-view .line').first().waitFor({ timeout: WAIT });
      await page.locator('.timeline li').first().waitFor({ timeout: WAIT });
      // How often it is checked: the engine's interval, its own or (none of its own) its status's;
      // a few seconds with tenths (the fixture's 7.5; the real server's failed ones 30 or the
      // demo's 5: whole seconds).
      const shownId = decodeURIComponent(new URL(page.url()).pathname.split('/').pop());
      const shown = await apiCall('GET', '/instances/' + encodeURIComponent(shownId));
      assert.equal(typeof shown.effectiveIntervalSeconds, 'number');
      const every = Number.isInteger(shown.effectiveIntervalSeconds) ? `${shown.effectiveIntervalSeconds}s` : `${shown.effectiveIntervalSeconds.toFixed(1)}s`;
      assert.equal(
        (await page.locator('.actions .sub').textContent()).trim(),
        `checked every ${every} (${shown.checkIntervalSeconds === null ? "its status's interval" : 'its own interval'})`,
      );
      await shot(page, `${vp.label}-instance`);
      await page.locator('.logs').scrollIntoViewIfNeeded();
      await shot(page, `${vp.label}-instance-logs`);
      if (fixture) {
        // The live tail: a line on the instance's stream shows once, however often it is sent.
        const lines = page.locator('.log-view .line');
        const before = await lines.count();
        const instanceId = decodeURIComponent(new URL(page.url()).pathname.split('/').pop());
        const message = `live tail line ${vp.label}`;
        const sent = await fetch(base + '/_fixture/log?' + new URLSearchParams({ instanceId, kind: 'build', message, times: '2' }), { method: 'POST' });
        assert.equal(sent.status, 201);
        await page.locator('.log-view .line', { hasText: message }).waitFor({ timeout: WAIT });
        await page.waitForTimeout(300);
        assert.equal(await lines.count(), before + 1, 'the line sent twice shows once');
      }
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert.ok(overflow <= 0, `the page is ${overflow} px wider than the window`);
      assert.deepEqual(errors, []);
    });

    test('filters and search are kept in the URL and survive a reload', async () => {
      await page.goto(base + '/');
      await page.locator('.fleet-table tbody tr[data-id]').first().waitFor({ timeout: WAIT });
      if (!(await page.locator('details.facets').evaluate((d) => d.open))) await page.locator('details.facets > summary').click();
      await page.locator('.facet', { hasText: 'Failed' }).locator('input').check();
      await page.waitForURL(/status=FAILED/, { timeout: WAIT });
      await page.locator('.table-box:not([aria-busy])').waitFor({ timeout: WAIT });
      const pills = await page.locator('.fleet-table tbody tr[data-id] .c-status .pill').allTextContents();
      assert.ok(pills.length > 0);
      for (const p of pills) assert.match(p, /Failed|Crashed|Skipped/);
      await page.reload();
      await page.locator('.fleet-table tbody tr[data-id]').first().waitFor({ timeout: WAIT });
      if (!(await page.locator('details.facets').evaluate((d) => d.open))) await page.locator('details.facets > summary').click();
      assert.ok(await page.locator('.facet', { hasText: 'Failed' }).locator('input').isChecked());
      await page.getByRole('searchbox', { name: 'Search instances' }).fill(failedName);
      await page.waitForURL(/q=/, { timeout: WAIT });
      await rowByName(page, failedName).waitFor({ timeout: WAIT });
      assert.deepEqual(errors, []);
    });

    test('the keyboard reaches the skip link, the filters and an instance, and opens it', async () => {
      await page.goto(base + '/');
      await page.locator('.fleet-table tbody tr[data-id]').first().waitFor({ timeout: WAIT });
      await page.keyboard.press('Tab');
      assert.ok(await page.evaluate(() => document.activeElement.matches('a.skip')), 'the first Tab lands on the skip link');
      let sawFilter = false;
      for (let i = 0; i < 80 && !(await page.evaluate(() => document.activeElement.matches('a.name'))); i++) {
        await page.keyboard.press('Tab');
        sawFilter ||= await page.evaluate(() => document.activeElement.matches('.facets summary, .facet input'));
      }
      assert.ok(sawFilter, 'the filters are in the tab order');
      assert.ok(await page.evaluate(() => document.activeElement.matches('a.name')), 'an instance link is reachable with Tab');
      await page.keyboard.press('Enter');
      await page.waitForURL(/\/instances\/[^/]+$/, { timeout: WAIT });
      await page.locator('.inst-head h1').waitFor({ timeout: WAIT });
      assert.deepEqual(errors, []);
    });

    test('attention, stats and notifications pages render from the API', async () => {
      await page.goto(base + '/attention');
      await page.locator('.page.attention h2').first().waitFor({ timeout: WAIT });
      await shot(page, `${vp.label}-attention`);
      await page.goto(base + '/stats');
      await page.locator('.uplot').nth(2).waitFor({ timeout: WAIT });
      // Days of history: the day, the longest window the page opens on by itself.
      assert.equal(await page.locator('.segmented button[aria-pressed="true"]').innerText(), '24h');
      await shot(page, `${vp.label}-stats`);
      await page.goto(base + '/notifications');
      await page.locator('.inbox li, .page.notifications .empty').first().waitFor({ timeout: WAIT });
      await shot(page, `${vp.label}-notifications`);
      await page.getByRole('tab', { name: 'Deliveries' }).click();
      await page.waitForURL(/tab=deliveries/, { timeout: WAIT });
      await page.locator('.deliveries-table, .page.notifications .empty').first().waitFor({ timeout: WAIT });
      await shot(page, `${vp.label}-deliveries`);
      assert.deepEqual(errors, []);
    });
  });
}

describe('dark mode and sign-in', () => {
  test('dark mode follows prefers-color-scheme', async () => {
    const { page, errors } = await openPage(1440, 900, 'dark');
    await page.goto(base + '/' + (token ? '?token=' + encodeURIComponent(token) : ''));
    await page.locator('.fleet-table tbody tr[data-id]').first().waitFor({ timeout: WAIT });
    const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    const [r, g, b] = bg.match(/\d+/g).map(Number);
    assert.ok(r + g + b < 120, `dark background expected, got ${bg}`);
    await shot(page, 'desktop-fleet-dark');
    const failed = page.locator('.fleet-table tbody tr[data-id]:has(.pill[data-status="FAILED"])');
    const row = (await failed.count()) ? failed.first() : page.locator('.fleet-table tbody tr[data-id]').first();
    await page.goto(base + '/instances/' + (await row.getAttribute('data-id')));
    await page.locator('.inst-head h1').waitFor({ timeout: WAIT });
    await page.locator('.log-view .line, .log-view .empty').first().waitFor({ timeout: WAIT });
    await shot(page, 'desktop-instance-dark');
    assert.deepEqual(errors, []);
    await page.close();
  });

  test('with an API token set, the dashboard asks for it once and keeps it for the session', { skip: !token && 'the server has no API token' }, async () => {
    const { page } = await openPage(1280, 800);
    await page.goto(base + '/');
    const dialog = page.locator('dialog.login');
    await dialog.waitFor({ timeout: WAIT });
    await shot(page, 'desktop-login');
    await dialog.locator('input[type=password]').fill('wrong-' + token);
    await dialog.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('dialog.login', { hasText: 'rejected' }).waitFor({ timeout: WAIT });
    await page.locator('dialog.login input[type=password]').fill(token);
    await page.locator('dialog.login').getByRole('button', { name: 'Sign in' }).click();
    await page.locator('.fleet-table tbody tr[data-id]').first().waitFor({ timeout: WAIT });
    await page.goto(base + '/stats');
    await page.locator('.summary .card').first().waitFor({ timeout: WAIT });
    assert.equal(await page.locator('dialog.login').count(), 0, 'asked only once per session');
    await page.close();
  });
});
