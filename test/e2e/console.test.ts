import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { type Browser, chromium, type Locator, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureChromium } from '../support/chromium.ts';
import { apiClient, REPO_ROOT, type RuntimeProcess, startRuntimeProcess, waitFor } from '../support/local-runtime.ts';

/** Screenshots of the console, taken by these tests and kept with the docs. */
const SHOTS = join(REPO_ROOT, 'docs/console');
/** The committed screenshots in docs/console are retaken only on request, so a test run leaves the tree clean. */
const TAKE_SCREENSHOTS = process.env.HANGAR_SCREENSHOTS === '1';
const screenshot = async (page: { screenshot(options: { path: string; fullPage: boolean }): Promise<unknown> }, name: string) => {
  if (TAKE_SCREENSHOTS) await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
};
const LIVE_TIMEOUT = 45_000;
const UI_TIMEOUT = 15_000;
/** Evaluated in the page (this project's TypeScript has no DOM types). */
const STORED_KEY = "sessionStorage.getItem('hangar.apiKey')";

// playwright-core has no assertions of its own: vitest's expect.poll retries until the page agrees.
const visible = (locator: Locator, timeout = UI_TIMEOUT) => locator.first().waitFor({ state: 'visible', timeout });
const textOf = (locator: Locator, timeout = UI_TIMEOUT) => expect.poll(() => locator.first().innerText().catch(() => ''), { timeout });
const attributeOf = (locator: Locator, name: string, timeout = UI_TIMEOUT) =>
  expect.poll(() => locator.first().getAttribute(name, { timeout: 500 }).catch(() => null), { timeout });
const countOf = (locator: Locator) => expect.poll(() => locator.count(), { timeout: UI_TIMEOUT });

/** The console in a real browser (Debian's Chromium, headless, offline) against `npm start`'s runtime. */
describe('web console', () => {
  let runtime: RuntimeProcess;
  let browser: Browser;
  let operatorKey: string;
  let viewerKey: string;
  let otherId: string;
  let instanceId: string;
  let page: Page;

  async function signIn(target: Page, key: string) {
    await target.goto(`${runtime.url}/`);
    await target.getByLabel('API key').fill(key);
    await target.getByRole('button', { name: 'Sign in' }).click();
    await visible(target.getByRole('heading', { name: 'Instances', level: 1 }));
  }

  const row = (target: Page, id: string) => target.locator(`tr[data-id="${id}"]`);

  beforeAll(async () => {
    const executablePath = ensureChromium();
    runtime = await startRuntimeProcess({ env: { HANGAR_WORKFLOW_WAIT_MS: '100', HANGAR_SAMPLE_INTERVAL_MS: '1000' } });
    const admin = apiClient(runtime.url, runtime.adminKey);
    const mine = (await admin('POST', '/api/clients', { name: 'Console Co' })).body.client.id;
    operatorKey = (await admin('POST', `/api/clients/${mine}/api-keys`, { name: 'ops', role: 'operator' })).body.apiKey.key;
    viewerKey = (await admin('POST', `/api/clients/${mine}/api-keys`, { name: 'look', role: 'viewer' })).body.apiKey.key;
    // A second client with an instance of its own, which Console Co's keys must never see.
    const other = (await admin('POST', '/api/clients', { name: 'Other Corp' })).body.client.id;
    const otherKey = (await admin('POST', `/api/clients/${other}/api-keys`, { name: 'ops', role: 'operator' })).body.apiKey.key;
    otherId = (await apiClient(runtime.url, otherKey)('POST', '/api/instances', { name: 'other-secret' })).body.instance.id;

    await mkdir(SHOTS, { recursive: true });
    browser = await chromium.launch({ executablePath, headless: true, args: ['--no-sandbox'] });
    page = await browser.newPage({ viewport: { width: 1360, height: 900 } });
  }, 600_000);

  afterAll(async () => {
    await browser?.close();
    await runtime?.stop();
  });

  it('refuses a wrong key with a clear message, then signs in with a good one', async () => {
    await page.goto(`${runtime.url}/`);
    await page.getByLabel('API key').fill('hgr_notAKeyAnyoneWasEverGiven000000000000');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await textOf(page.getByRole('alert')).toContain('not valid');
    expect(await page.evaluate(STORED_KEY)).toBeNull();

    await page.getByLabel('API key').fill(operatorKey);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await visible(page.getByRole('heading', { name: 'Instances', level: 1 }));
    // The key is in this tab's session storage, never in the address.
    expect(page.url()).not.toContain(operatorKey);
    expect(await page.evaluate(STORED_KEY)).toBe(operatorKey);
  });

  it('creates a LOCAL instance from the form and shows it reach READY without a reload', async () => {
    await page.getByRole('link', { name: 'Create', exact: true }).click();
    await visible(page.getByRole('heading', { name: 'Create an instance' }));
    // Choices come from the synced LOCAL catalog, with prices.
    await countOf(page.getByLabel('Flavor').locator('option', { hasText: 'local.small' })).toBe(1);
    await page.getByLabel('Flavor').selectOption('local.small');
    await textOf(page.getByLabel('Estimate')).toContain('$0.01/h');

    // The API's validation message appears next to its field.
    await page.getByLabel('Name').fill('console-web');
    await page.getByLabel('Disk (GB)').fill('5');
    await page.getByRole('button', { name: 'Launch' }).click();
    await textOf(page.locator('#c-disk-error')).toContain('at least 30 GB');
    await page.getByLabel('Disk (GB)').fill('30');
    await screenshot(page, 'create');

    // A marker on the window proves the page was never reloaded while the status moved.
    await page.evaluate('window.__sameDocument = true');
    await page.getByRole('button', { name: 'Launch' }).click();
    await visible(page.getByRole('heading', { name: 'Launching console-web' }));
    instanceId = (await page.locator('.progress code').first().textContent())!;
    expect(instanceId).toMatch(/^vps-console-web-[a-z0-9]{6}$/);
    await textOf(page.locator('.progress-status'), LIVE_TIMEOUT).toContain('READY');
    expect(await page.evaluate('window.__sameDocument')).toBe(true);
  });

  it('lists it live and stops it from the table', async () => {
    await page.getByRole('link', { name: 'Instances', exact: true }).click();
    await attributeOf(row(page, instanceId), 'data-status').toBe('READY');
    await textOf(row(page, instanceId)).toContain('$0.01/h');
    // Only what the lifecycle allows from READY is offered.
    await countOf(row(page, instanceId).getByRole('button', { name: 'Start console-web' })).toBe(0);
    await screenshot(page, 'instances');

    // The detail page's chart needs a sample, and a machine is sampled only while it is up: on a
    // loaded machine the first one can take a while, so wait for it before stopping.
    const api = apiClient(runtime.url, operatorKey);
    await waitFor('a cpu/memory sample', async () => ((await api('GET', `/api/instances/${instanceId}/metrics`)).body.metrics?.length ? true : undefined));

    await row(page, instanceId).getByRole('button', { name: 'Stop console-web' }).click();
    await attributeOf(row(page, instanceId), 'data-status', LIVE_TIMEOUT).toBe('STOPPED');
    await visible(row(page, instanceId).getByRole('button', { name: 'Start console-web' }));
    // Filters live in the address: a reload keeps them.
    await page.getByLabel('Status').selectOption('STOPPED');
    expect(page.url()).toContain('status=STOPPED');
    await visible(row(page, instanceId));
  });

  it('opens the detail page with its events, then terminates it after a confirmation', async () => {
    await row(page, instanceId).getByRole('link', { name: 'console-web' }).click();
    await visible(page.getByRole('heading', { name: /console-web/, level: 1 }));
    const events = page.locator('ol.events');
    await textOf(events).toContain('instance.created');
    await textOf(events).toContain('CONFIGURING → READY');
    await textOf(events).toContain('STOPPING → STOPPED');
    await visible(page.getByText(/samples?; the latest/));
    await screenshot(page, 'detail');

    await page.getByRole('button', { name: 'Terminate' }).click();
    const dialog = page.getByRole('dialog');
    await textOf(dialog).toContain('cannot be undone');
    await dialog.getByRole('button', { name: 'Terminate' }).click();
    await textOf(page.getByRole('heading', { level: 1 }), LIVE_TIMEOUT).toContain('TERMINATED');
    await textOf(events).toContain('TERMINATING → TERMINATED');
    // Nothing is left to do to a terminated instance.
    await countOf(page.getByRole('button', { name: /^(Start|Stop|Reboot|Extend|Terminate)$/ })).toBe(0);
    const api = apiClient(runtime.url, operatorKey);
    expect((await api('GET', `/api/instances/${instanceId}`)).body.instance.status).toBe('TERMINATED');
  });

  it("never shows another client's instance", async () => {
    await page.goto(`${runtime.url}/#/instances`);
    await visible(row(page, instanceId));
    await countOf(page.getByText(otherId)).toBe(0);
    await countOf(page.getByText('other-secret')).toBe(0);
    await page.goto(`${runtime.url}/#/instances/${otherId}`);
    await textOf(page.getByRole('alert')).toMatch(/not found/i);
  });

  it('offers a viewer no action at all', async () => {
    const api = apiClient(runtime.url, operatorKey);
    const ready = await api('POST', '/api/instances', { name: 'viewer-sees' });
    await waitFor('viewer-sees to be READY', async () => {
      const { body } = await api('GET', `/api/instances/${ready.body.instance.id}`);
      return body.instance.status === 'READY' ? true : undefined;
    });
    const context = await browser.newContext();
    const viewer = await context.newPage();
    await signIn(viewer, viewerKey);
    await attributeOf(row(viewer, ready.body.instance.id), 'data-status').toBe('READY');
    await countOf(viewer.locator('table.instances tbody button, table.instances input[type=checkbox]')).toBe(0);
    await countOf(viewer.getByRole('link', { name: 'Create instance' })).toBe(0);
    await countOf(viewer.getByRole('link', { name: 'Create', exact: true })).toBe(0);
    await viewer.getByRole('link', { name: 'viewer-sees' }).click();
    await visible(viewer.getByRole('heading', { name: /viewer-sees/, level: 1 }));
    await countOf(viewer.getByRole('button', { name: /^(Start|Stop|Reboot|Extend|Terminate|Check health now)$/ })).toBe(0);
    await countOf(viewer.getByText(otherId)).toBe(0);

    // Signing out forgets the key.
    await viewer.getByRole('button', { name: 'Sign out' }).click();
    await visible(viewer.getByLabel('API key'));
    expect(await viewer.evaluate(STORED_KEY)).toBeNull();
    await context.close();
  });
});
