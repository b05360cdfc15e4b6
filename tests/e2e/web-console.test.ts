// The web console in a real browser (Debian's headless Chromium driven by playwright-core)
// against local mode: the real workflow, SQLite file, simulated cluster over HTTP. A person's
// path through it: a refused input shown next to its field, request → approve → address on
// screen, IP look-up, delete. Playwright's locators wait by themselves; no sleeps.
import { existsSync } from 'node:fs';
import { mkdir, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { parse } from '@cdktf/hcl2json';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { silentLogger } from '../../src/log.js';
import { startLocalMode, type LocalMode } from '../../src/local.js';
import { makeTempDir } from '../support/tmp.js';
import { startHarness } from '../support/harness.js';
import { startWebConsole } from '../../src/chat/web/index.js';

const CHROMIUM = '/usr/bin/chromium';
const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAVetM1RAU3e4XdWWTX8NaglZCn+DtXS1g8BszVPJ+rt alice@laptop';
const PRIVATE_KEY = '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n-----END OPENSSH PRIVATE KEY-----';
/** Where the screenshots go: a temp folder, or VMBOT_SCREENSHOTS (`VMBOT_SCREENSHOTS=docs` takes the ones in docs/). */
const SCREENSHOT_DIR = process.env.VMBOT_SCREENSHOTS;

let temp: { dir: string; cleanup(): Promise<void> };
let local: LocalMode;
let browser: BrowserContext;
let page: Page;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install Debian's chromium package (.ci/run does)`);
  temp = await makeTempDir('e2e-web');
  const config = parseConfig({ nomad: { adapter: 'sim', pollInterval: '100ms', sim: { bootDelay: '300ms' } }, web: { listen: '127.0.0.1:0' } });
  local = await startLocalMode({ config, logger: silentLogger, dataDir: join(temp.dir, 'data'), sim: { startDelayMs: 50, chunkDelayMs: 2, stopDelayMs: 50, gcDelayMs: 50 } });
  // Chromium starts in seconds; meanwhile load HashiCorp's HCL parser (WebAssembly) that the
  // in-process simulated cluster uses, so the first approval does not pay for it.
  const warm = parse('warm.hcl', 'job "warm" {}');
  browser = await chromium.launchPersistentContext(join(temp.dir, 'chromium-profile'), {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1400, height: 1000 },
  });
  await warm;
  browser.setDefaultTimeout(10_000);
  page = browser.pages()[0] ?? (await browser.newPage());
  await page.goto(local.url);
  await page.locator('body[data-ready="member"]').waitFor();
});

afterAll(async () => {
  await browser?.close();
  await local?.close();
  await temp?.cleanup();
});

/** The page fits the window's width: nothing scrolls sideways. */
async function expectNoSideScroll(view: string, width: number): Promise<void> {
  await page.setViewportSize({ width, height: 900 });
  const { scroll, client } = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth }));
  expect(scroll, `${view} view at ${width} px: ${scroll} px of content in ${client} px`).toBeLessThanOrEqual(client);
}

async function screenshot(name: string, width: number): Promise<void> {
  await page.setViewportSize({ width, height: 900 });
  const path = join(SCREENSHOT_DIR ?? temp.dir, name);
  await mkdir(dirname(path), { recursive: true });
  await page.screenshot({ path, fullPage: true });
  expect((await stat(path)).size).toBeGreaterThan(10_000);
}

async function submit(fields: Partial<Record<'name' | 'login' | 'sshKeys' | 'reason', string>>): Promise<void> {
  const form = page.locator('#request-form');
  for (const [name, value] of Object.entries(fields)) await form.locator(`[name="${name}"]`).fill(value);
  await form.getByRole('button', { name: 'Send request' }).click();
}

describe('web console in a browser (local mode)', () => {
  it('says in its header that the cluster is simulated', async () => {
    await expect(page.locator('#sim-banner').textContent()).resolves.toBe('SIMULATED CLUSTER — no real VM is created');
    expect(await page.locator('#sim-banner').isVisible()).toBe(true);
  });

  it('shows refused input next to its field: an invalid name, a private key pasted', async () => {
    await submit({ name: 'Not A Name!', login: 'alice', sshKeys: PRIVATE_KEY, reason: 'course work' });
    const nameError = page.locator('#request-form [data-error-for="name"]');
    const keyError = page.locator('#request-form [data-error-for="sshKeys"]');
    await nameError.waitFor();
    await keyError.waitFor();
    expect(await nameError.textContent()).toMatch(/lower-case/);
    expect(await keyError.textContent()).toMatch(/private/i);
    // Nothing was requested, and the empty list says so.
    expect(await page.locator('#cards .card').count()).toBe(0);
    expect(await page.locator('#cards-empty').textContent()).toBe('No requests yet.');
    expect(await page.locator('#cards-empty').isVisible()).toBe(true);
  });

  it('shows the backticks of vmbot\'s messages as code, never as markup', async () => {
    await submit({ name: 'web-e2e', login: 'alice', sshKeys: 'hello <i>world</i>', reason: 'course work' });
    const keyError = page.locator('#request-form [data-error-for="sshKeys"]');
    await keyError.locator('code', { hasText: '.pub' }).first().waitFor();
    expect(await keyError.textContent()).not.toMatch(/`/);
    expect(await keyError.locator('i').count()).toBe(0);
    expect(await page.locator('#cards .card').count()).toBe(0);
  });

  it('request → approve → the address appears on the card, live', async () => {
    await submit({ name: 'web-e2e', login: 'alice', sshKeys: KEY, reason: 'Trying vmbot <b>now</b>' });
    const card = page.locator('.card', { has: page.locator('.name', { hasText: 'web-e2e' }) });
    await card.waitFor();
    expect(await page.locator('#request-form [data-error-for="name"]').textContent()).toBe('');
    // Member text is shown as text, never as markup.
    await expect(card.locator('dd', { hasText: 'Trying vmbot <b>now</b>' }).count()).resolves.toBe(1);
    expect(await card.locator('b').count()).toBe(0);

    await page.locator('#view-switch button[data-view="admin"]').click();
    await page.locator('body[data-ready="admin"]').waitFor();
    const adminCard = page.locator('.card', { has: page.locator('.name', { hasText: 'web-e2e' }) });
    await adminCard.locator('button[data-action="approve"]').click();
    const ssh = adminCard.locator('.ssh');
    await ssh.waitFor({ timeout: 20_000 });
    expect(await ssh.textContent()).toMatch(/^ssh alice@10\.10\.0\.\d+$/);
    expect(await adminCard.getAttribute('data-state')).toBe('running');
    expect(await adminCard.locator('.progress li[data-status="done"]').count()).toBe(5);

    // Metrics saw the same VM come up (cards drive the histogram, the store the gauges).
    const scrape = async () => (await fetch(new URL('/metrics', local.url))).text();
    await expect.poll(scrape).toMatch(/^vmbot_approval_to_address_seconds_count 1$/m);
    const metrics = await scrape();
    expect(metrics).toMatch(/^vmbot_requests\{state="running"\} 1$/m);
    expect(metrics).toMatch(/^vmbot_mac_pool_free 255$/m);

    // The admin view also shows the MAC pool and the audit log.
    await page.locator('#pool tbody tr', { hasText: 'web-e2e' }).waitFor();
    await page.locator('#audit tbody tr', { hasText: 'approve' }).first().waitFor();
    // vmbot's own steps are attributed to vmbot, not to a "cli" user; actions read as words,
    // the raw code is on hover and in the JSON download.
    const macRow = page.locator('#audit tbody tr[data-action="mac_allocated"]');
    expect(await macRow.locator('td').nth(1).textContent()).toBe('vmbot');
    expect(await macRow.locator('td.action').textContent()).toBe('MAC address assigned');
    expect(await macRow.locator('td.action').getAttribute('title')).toBe('mac_allocated');
    const running = page.locator('#audit tbody tr[data-action="state:provisioning->running"] td.action');
    expect(await running.textContent()).toBe('now up and running');
    expect(await page.locator('#audit tbody td.action', { hasText: /_|->/ }).count()).toBe(0);
    const href = await page.locator('#audit-json').getAttribute('href');
    const exported = (await (await fetch(new URL(href!, local.url))).json()) as { value: Array<{ action: string }> };
    expect(exported.value.map((row) => row.action)).toContain('mac_allocated');
  });

  it('fits 320 to 390 px wide with no sideways scroll, in both views', async () => {
    for (const width of [320, 390]) await expectNoSideScroll('admin', width);
    await screenshot('web-console-390-admin.png', 390);
    await screenshot('web-console-1280.png', 1280);
    await page.locator('#view-switch button[data-view="member"]').click();
    await page.locator('body[data-ready="member"]').waitFor();
    await page.locator('#notices li[data-kind="up"]').waitFor();
    for (const width of [320, 390]) await expectNoSideScroll('member', width);
    await screenshot('web-console-390.png', 390);
    await page.setViewportSize({ width: 1400, height: 1000 });
  });

  it('refuses an empty look-up in the page, and words an unknown one for the console', async () => {
    const asked: string[] = [];
    const onRequest = (r: { url(): string }) => { if (r.url().includes('/api/ip')) asked.push(r.url()); };
    page.on('request', onRequest);
    try {
      await page.locator('#ip-form [name="name"]').fill('   ');
      await page.locator('#ip-form button').click();
      const error = page.locator('#ip-form [data-error-for="name"]');
      await error.waitFor();
      expect(await error.textContent()).toBe('Type the name of a VM to look up.');
      expect(asked).toEqual([]);

      await page.locator('#ip-form [name="name"]').fill('no-such-vm');
      await page.locator('#ip-form button').click();
      await page.locator('#ip-form [data-error-for="name"]', { hasText: 'no-such-vm' }).waitFor();
      const text = await error.textContent();
      expect(text).toMatch(/VMs table/);
      expect(text).not.toMatch(/\/vm/);
      expect(asked).toHaveLength(1);
    } finally {
      page.off('request', onRequest);
    }
  });

  it('the member sees the notice, looks the address up, and deletes the VM', async () => {
    await page.locator('#view-switch button[data-view="member"]').click();
    await page.locator('body[data-ready="member"]').waitFor();
    await page.locator('#notices li[data-kind="up"]').waitFor();
    expect(await page.locator('#notices li[data-kind="up"]').textContent()).toMatch(/web-e2e is up: ssh alice@10\.10\.0\.\d+/);

    await page.locator('#ip-form [name="name"]').fill('web-e2e');
    await page.locator('#ip-form button').click();
    await page.locator('#ip-result', { hasText: 'ssh alice@' }).waitFor();
    expect(await page.locator('#ip-form [data-error-for="name"]').textContent()).toBe('');

    const row = page.locator('#vms tbody tr[data-vm="web-e2e"]');
    // The console log (/vm logs), drawn as text under the table.
    await row.locator('button[data-action="logs"]').click();
    await page.locator('#console-log-lines', { hasText: 'cloud-init' }).waitFor();
    expect(await page.locator('#console-log-title').textContent()).toMatch(/console lines of web-e2e \(allocation [0-9a-f]{8}\)/);
    expect(await page.locator('#console-log-lines').textContent()).not.toMatch(/\x1b/);
    await row.locator('button[data-action="delete"]').click();
    await row.locator('button[data-action="delete-confirm"]').click();
    const card = page.locator('.card', { has: page.locator('.name', { hasText: 'web-e2e' }) });
    // A finished card is hidden by default; "Show finished" brings it back, without an address.
    await page.locator('.card[data-state="deleted"]', { has: page.locator('.name', { hasText: 'web-e2e' }) }).waitFor({ state: 'attached', timeout: 20_000 });
    expect(await card.isVisible()).toBe(false);
    expect(await page.locator('#cards-empty').textContent()).toMatch(/No live requests; 1 finished/);
    await page.locator('#show-finished').check();
    await card.waitFor();
    expect(await card.locator('.state').textContent()).toMatch(/deleted/i);
    expect(await card.locator('.ssh').count()).toBe(0);
    expect(await card.textContent()).not.toMatch(/10\.10\.0\./);
    await page.locator('#show-finished').uncheck();
    await card.waitFor({ state: 'hidden' });
    await page.locator('#notices li[data-kind="deleted"]').waitFor();
    // The VM list follows: no Delete button for a deleted VM.
    await page.locator('#vms tbody tr[data-vm="web-e2e"] button[data-action="delete"]').waitFor({ state: 'detached' });
  });

  it('an admin denies with a reason; the member reads it', async () => {
    await submit({ name: 'web-deny', reason: 'a second one' });
    await page.locator('.card', { has: page.locator('.name', { hasText: 'web-deny' }) }).waitFor();
    await page.locator('#view-switch button[data-view="admin"]').click();
    await page.locator('body[data-ready="admin"]').waitFor();
    const card = page.locator('.card', { has: page.locator('.name', { hasText: 'web-deny' }) });
    await card.locator('button[data-action="deny"]').click();
    await card.locator('input[name="reason"]').fill('one VM per member, please');
    await expectNoSideScroll('admin, denying', 320); // the reason box and its button wrap
    await page.setViewportSize({ width: 1400, height: 1000 });
    await card.locator('button[data-action="deny-confirm"]').click();
    const denied = page.locator('.card[data-state="denied"]', { has: page.locator('.name', { hasText: 'web-deny' }) });
    await denied.waitFor({ state: 'attached' });
    expect(await denied.isVisible()).toBe(false);
    await page.locator('#show-finished').check();
    await denied.waitFor();
    await page.locator('#show-finished').uncheck();

    await page.locator('#view-switch button[data-view="member"]').click();
    await page.locator('body[data-ready="member"]').waitFor();
    const notice = page.locator('#notices li[data-kind="denied"]');
    await notice.waitFor();
    expect(await notice.textContent()).toMatch(/web-deny was denied by .*one VM per member, please/);
  });
});

describe('web console in a browser (production, read-only)', () => {
  it('opens with ?token= once, then shows cards, pool and audit without any action', async () => {
    const h = await startHarness();
    const token = 'web-token-' + 'a'.repeat(32);
    const web = await startWebConsole({ workflow: h.core.workflow, store: h.core.store, config: h.config, mode: 'production', host: '127.0.0.1', port: 0, token, logger: silentLogger, simulated: false });
    try {
      const submitted = await h.core.workflow.submitRequest(h.member(), h.input({ name: 'prod-view' }));
      expect(submitted.ok).toBe(true);
      const denied = await page.goto(web.url);
      expect(denied?.status()).toBe(401);

      await page.goto(`${web.url}?token=${token}`);
      await page.locator('body[data-ready="admin"]').waitFor();
      expect(new URL(page.url()).search).toBe(''); // the token left the address bar for a cookie
      expect(await page.locator('#readonly-banner').isVisible()).toBe(true);
      expect(await page.locator('#sim-banner').isVisible()).toBe(false);
      await page.locator('.card', { has: page.locator('.name', { hasText: 'prod-view' }) }).waitFor();
      expect(await page.locator('button[data-action]').count()).toBe(0);
      expect(await page.locator('#request-form').isVisible()).toBe(false);
      await page.locator('#audit tbody tr', { hasText: 'request' }).first().waitFor();
      for (const width of [320, 390]) await expectNoSideScroll('read-only', width);
      await page.setViewportSize({ width: 1400, height: 1000 });
      await page.reload();
      await page.locator('body[data-ready="admin"]').waitFor(); // the cookie carries the token
    } finally {
      await web.stop();
      await h.close();
    }
  });
});

