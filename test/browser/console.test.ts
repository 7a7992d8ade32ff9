import { existsSync } from 'node:fs';
import { copyFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { sign } from '@octokit/webhooks-methods';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { CONSOLE_CSP } from '../../src/http/console-route.js';
import {
  CreateApiTokenDocument, CreateRelayDocument, CreateSourceDocument, CreateSubscriptionDocument, DeliveriesDocument, PublishEventDocument, RevokeApiTokenDocument,
} from '../generated/graphql.js';
import { startTestApp, TEST_ADMIN_TOKEN } from '../helpers/app.js';
import { createTestDatabase } from '../helpers/database.js';
import { execute } from '../helpers/graphql.js';
import { REPO_ROOT } from '../helpers/process.js';
import { startSink, waitUntil, type Sink } from '../helpers/sink.js';

/**
 * The console in a real browser: Debian's Chromium driven by playwright-core, against Hookyard
 * in this process (the built console in dist/console, which `npm test`'s pretest builds).
 * Without Chromium (`apt-get install -y chromium`; .ci/run installs it) the suite is skipped,
 * saying why. The screenshot lands in dist/screenshots/; HOOKYARD_UPDATE_SCREENSHOT=1 also
 * copies it to docs/console.png, the README's picture.
 */
const CHROMIUM = process.env.HOOKYARD_CHROMIUM ?? '/usr/bin/chromium';
const missing = !existsSync(CHROMIUM)
  ? `no Chromium at ${CHROMIUM} (apt-get install -y chromium, or HOOKYARD_CHROMIUM=<path>)`
  : !existsSync(path.join(REPO_ROOT, 'dist/console/index.html')) ? 'the console is not built (npm run build)' : undefined;
if (missing) console.warn(`test/browser/console.test.ts skipped: ${missing}`);

const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const TIMEOUT = 20_000;

/** The little of the DOM the page-side functions below use (the test tree has no DOM types). */
interface PageGlobals {
  document: {
    addEventListener(type: 'securitypolicyviolation', listener: (event: { violatedDirective: string; blockedURI: string }) => void): void;
    body: { insertAdjacentHTML(position: 'beforeend', html: string): void };
  };
}

let app: App;
let sink: Sink;
let browser: Browser;
let readToken: string;
let readTokenId: string;
/** The billing receiver fails (500) until healed: its deliveries die at once (no retries). */
let billingHealed = false;
const relays: Record<'orders' | 'billing', string> = { orders: '', billing: '' };

async function admin<T, V>(document: Parameters<typeof execute<T, V>>[1], variables: V): Promise<T> {
  const result = await execute(app.url, document, variables, TEST_ADMIN_TOKEN);
  expect(result.errors).toBeUndefined();
  return result.data!;
}

async function sendGithub(slug: string, event: string, body: unknown, headers: Record<string, string> = {}): Promise<string> {
  const text = JSON.stringify(body);
  const response = await fetch(`${app.url}/ingest/${slug}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-github-event': event, 'x-github-delivery': crypto.randomUUID(), 'x-hub-signature-256': await sign(`${slug}-secret`, text), ...headers },
    body: text,
  });
  expect(response.status).toBe(200);
  return ((await response.json()) as { id: string }).id;
}

async function deliveryOf(eventId: string, relayId: string, status?: 'SUCCEEDED' | 'DEAD'): Promise<string> {
  return waitUntil(async () => {
    const { deliveries } = await admin(DeliveriesDocument, { filter: { eventId, relayId, ...(status ? { status: [status] } : {}) } });
    return deliveries.edges[0]?.node.id;
  }, TIMEOUT, `a ${status ?? ''} delivery of ${eventId}`);
}

/** A page with its dialogs and errors recorded; signs in with `token`. */
function violations(page: Page): Promise<string[]> {
  return page.evaluate(() => (globalThis as { __violations?: string[] }).__violations ?? ['no CSP listener']);
}

async function signedIn(context: BrowserContext, token: string): Promise<{ page: Page; dialogs: string[]; problems: string[] }> {
  const page = await context.newPage();
  const dialogs: string[] = [];
  const problems: string[] = [];
  page.on('dialog', (dialog) => {
    dialogs.push(dialog.message());
    void dialog.dismiss();
  });
  // CSP violations reported by the page itself, from its first moment.
  await page.addInitScript(() => {
    const violations: string[] = [];
    Object.assign(globalThis, { __violations: violations });
    (globalThis as unknown as PageGlobals).document.addEventListener('securitypolicyviolation', (event) => violations.push(`${event.violatedDirective} ${event.blockedURI}`));
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error' || /Content.Security.Policy/i.test(message.text())) problems.push(`console: ${message.text()}`);
  });
  await page.goto(app.url);
  await page.fill('input[name=token]', token);
  await page.click('button[type=submit]');
  await page.locator('[data-testid=scope]').waitFor({ timeout: TIMEOUT });
  return { page, dialogs, problems };
}

async function setUp(): Promise<void> {
  const { createSource: shop } = await admin(CreateSourceDocument, { input: { name: 'GitHub shop', slug: 'gh-shop', preset: 'GITHUB', secret: 'gh-shop-secret', keepHeaders: ['x-note'] } });
  const { createRelay: orders } = await admin(CreateRelayDocument, { input: { name: 'orders-service', url: `${sink.url}/orders` } });
  const { createRelay: billing } = await admin(CreateRelayDocument, { input: { name: 'billing', url: `${sink.url}/billing`, retrySchedule: [] } });
  relays.orders = orders.relay.id;
  relays.billing = billing.relay.id;
  await admin(CreateSourceDocument, { input: { name: 'GitHub docs', slug: 'gh-docs', preset: 'GITHUB', secret: 'gh-docs-secret' } });
  await admin(CreateSubscriptionDocument, { input: { relayId: orders.relay.id, eventTypes: ['*'] } });
  await admin(CreateSubscriptionDocument, { input: { relayId: billing.relay.id, sourceIds: [shop.id], eventTypes: ['issues'] } });
  const { createApiToken } = await admin(CreateApiTokenDocument, { input: { name: 'on-call dashboard', scope: 'READ' } });
  readToken = createApiToken.token;
  readTokenId = createApiToken.apiToken.id;
}

describe.skipIf(missing !== undefined)(`the console in Chromium${missing ? ` (skipped: ${missing})` : ''}`, () => {
  beforeAll(async () => {
    await mkdir(path.join(REPO_ROOT, 'dist/screenshots'), { recursive: true });
    app = await startTestApp(await createTestDatabase());
    sink = await startSink();
    sink.answer = (_index, request) => (request.url.startsWith('/billing') && !billingHealed
      ? { status: 500, headers: { 'content-type': 'application/json' }, body: '{"error":"ledger database unavailable"}' }
      : { status: 200, body: 'ok' });
    // playwright-core gives each launch a fresh profile (--user-data-dir) of its own, removed on close.
    browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS, timeout: 30_000 });
    await setUp();
  });

  afterAll(async () => {
    await browser?.close();
    await sink?.close();
  });

  it('shows a webhook live, its attempt, and a DEAD delivery retried into SUCCEEDED', async () => {
    const context = await browser.newContext({ viewport: { width: 1360, height: 860 } });
    const { page, dialogs, problems } = await signedIn(context, TEST_ADMIN_TOKEN);
    expect(await page.locator('[data-testid=scope]').textContent()).toContain('ADMIN');
    // Set once; still there at the end, so every change below arrived without a reload.
    await page.evaluate(() => Object.assign(globalThis, { __noReload: true }));
    await waitUntil(() => (app.liveSubscribers() >= 1 ? true : undefined), TIMEOUT, 'the console\'s live subscription');

    const pushed = await sendGithub('gh-shop', 'push', { ref: 'refs/heads/main', commits: [{ id: 'a1b2c3', message: 'Ship the invoices page' }] });
    const pushDelivery = await deliveryOf(pushed, relays.orders);
    const row = page.locator(`tr[data-delivery="${pushDelivery}"]`);
    await row.locator('.status', { hasText: 'SUCCEEDED' }).waitFor({ timeout: TIMEOUT });
    expect(await row.textContent()).toContain('push');

    // One delivery: its attempt and its event.
    await row.locator('a').click();
    await page.locator('[data-attempt="1"]').waitFor({ timeout: TIMEOUT });
    expect(await page.locator('[data-attempt="1"] h3').textContent()).toContain('200');
    expect(await page.locator('[data-testid=event-body]').textContent()).toContain('"message": "Ship the invoices page"');

    // A DEAD delivery, found through the list's filters, retried from its page.
    const issue = await sendGithub('gh-shop', 'issues', { action: 'opened', issue: { number: 42, title: 'Invoice totals are off by one cent' } });
    const deadDelivery = await deliveryOf(issue, relays.billing, 'DEAD');
    await page.click('a.tab[href="#/deliveries"]');
    await page.selectOption('select[name=status]', 'DEAD');
    await page.selectOption('select[name=relay]', relays.billing);
    await page.locator(`tr[data-delivery="${deadDelivery}"] a`).click();
    await page.locator('[data-testid=delivery-status]', { hasText: 'DEAD' }).waitFor({ timeout: TIMEOUT });
    expect(await page.locator('[data-attempt="1"]').textContent()).toContain('ledger database unavailable');
    billingHealed = true;
    await page.click('button[data-action=retry]');
    await page.locator('[data-testid=delivery-status]', { hasText: 'SUCCEEDED' }).waitFor({ timeout: TIMEOUT });
    await page.locator('[data-attempt="2"]').waitFor({ timeout: TIMEOUT });
    await page.screenshot({ path: path.join(REPO_ROOT, 'dist/screenshots/delivery.png'), fullPage: true });

    // Its event: both deliveries, and a replay that adds two more, live.
    await page.click(`a[href="#/event/${issue}"]`);
    await page.locator('tr[data-delivery]').nth(1).waitFor({ timeout: TIMEOUT });
    expect(await page.locator('tr[data-delivery]').count()).toBe(2);
    await page.click('button[data-action=replay]');
    await page.locator('tr[data-delivery]').nth(3).waitFor({ timeout: TIMEOUT });
    await waitUntil(async () => ((await page.locator('tr[data-delivery] .status', { hasText: 'SUCCEEDED' }).count()) === 4 ? true : undefined), TIMEOUT, 'four SUCCEEDED rows after the replay');

    // A populated list for the README's picture: a few more webhooks, one of them failing.
    billingHealed = false;
    await page.click('a.tab[href="#/deliveries"]');
    await page.selectOption('select[name=status]', '');
    await page.selectOption('select[name=relay]', '');
    const more = [
      ['gh-docs', 'pull_request', { action: 'opened', number: 7 }], ['gh-shop', 'issues', { action: 'closed', issue: { number: 41 } }],
      ['gh-docs', 'push', { ref: 'refs/heads/release' }], ['gh-shop', 'release', { action: 'published', release: { tag_name: 'v1.4.0' } }],
    ] as const;
    for (const [slug, event, body] of more) {
      const id = await sendGithub(slug, event, body);
      await page.locator(`tr[data-delivery="${await deliveryOf(id, relays.orders, 'SUCCEEDED')}"] .status`, { hasText: 'SUCCEEDED' }).waitFor({ timeout: TIMEOUT });
    }
    await page.locator('tr[data-delivery] .status', { hasText: 'DEAD' }).first().waitFor({ timeout: TIMEOUT });
    const shot = path.join(REPO_ROOT, 'dist/screenshots/console.png');
    await page.setViewportSize({ width: 1280, height: 560 });
    await page.screenshot({ path: shot });
    if (process.env.HOOKYARD_UPDATE_SCREENSHOT === '1') await copyFile(shot, path.join(REPO_ROOT, 'docs/console.png'));

    // The source filter, live: a gh-docs webhook's row appears, a gh-shop one's stays out.
    await page.setViewportSize({ width: 1360, height: 860 });
    await page.selectOption('select[name=source]', { label: 'gh-docs' });
    const sourcesShown = () => page.locator('tr[data-delivery] td:nth-child(4)').allTextContents();
    await waitUntil(async () => ((await sourcesShown()).every((slug) => slug === 'gh-docs') ? true : undefined), TIMEOUT, 'only gh-docs deliveries listed');
    const outside = await deliveryOf(await sendGithub('gh-shop', 'push', { ref: 'refs/heads/outside-the-filter' }), relays.orders, 'SUCCEEDED');
    const inside = await deliveryOf(await sendGithub('gh-docs', 'push', { ref: 'refs/heads/inside-the-filter' }), relays.orders, 'SUCCEEDED');
    await page.locator(`tr[data-delivery="${inside}"] .status`, { hasText: 'SUCCEEDED' }).waitFor({ timeout: TIMEOUT });
    expect(await page.locator(`tr[data-delivery="${outside}"]`).count()).toBe(0);
    expect(new Set(await sourcesShown())).toEqual(new Set(['gh-docs']));
    await page.selectOption('select[name=source]', '');

    // Relays with their health, and their buttons for an ADMIN token.
    await page.click('a.tab[href="#/relays"]');
    const billingRow = page.locator(`tr[data-relay="${relays.billing}"]`);
    await billingRow.waitFor({ timeout: TIMEOUT });
    expect(await billingRow.textContent()).toMatch(/HTTP_STATUS 500/);
    expect(await billingRow.locator('button[data-action]').count()).toBe(2);
    await page.screenshot({ path: path.join(REPO_ROOT, 'dist/screenshots/relays.png') });
    const ordersRow = page.locator(`tr[data-relay="${relays.orders}"]`);
    await ordersRow.locator('button[data-action=test]').click();
    await ordersRow.locator('.notice', { hasText: 'Test event: done' }).waitFor({ timeout: TIMEOUT });
    await billingRow.locator('input[name=reason]').fill('ledger migration tonight');
    await billingRow.locator('button[data-action=disable]').click();
    await billingRow.locator('.status', { hasText: 'disabled' }).waitFor({ timeout: TIMEOUT });
    expect(await billingRow.textContent()).toContain('ledger migration tonight');
    // While it is disabled, its new deliveries are HELD: one of them cancelled from its page.
    const held = await deliveryOf(await sendGithub('gh-shop', 'issues', { action: 'reopened', issue: { number: 42 } }), relays.billing);
    await page.evaluate((hash) => Object.assign((globalThis as unknown as { location: { hash: string } }).location, { hash }), `#/delivery/${held}`);
    await page.locator('[data-testid=delivery-status]', { hasText: 'HELD' }).waitFor({ timeout: TIMEOUT });
    await page.click('button[data-action=cancel]');
    await page.locator('[data-testid=delivery-status]', { hasText: 'CANCELLED' }).waitFor({ timeout: TIMEOUT });
    expect(await page.locator('button[data-action=cancel]').isDisabled()).toBe(true);
    await page.click('a.tab[href="#/relays"]');
    await billingRow.locator('button[data-action=enable]').click();
    await billingRow.locator('.status', { hasText: 'enabled' }).waitFor({ timeout: TIMEOUT });

    expect(await page.evaluate(() => (globalThis as { __noReload?: boolean }).__noReload)).toBe(true);
    // The live updates above came over ws:// under `connect-src 'self'`, and nothing was blocked.
    expect(await violations(page)).toEqual([]);
    expect(dialogs).toEqual([]);
    expect(problems).toEqual([]);
    await context.close();
  });

  it('renders script and HTML from a webhook\'s body, type and headers as text, and nothing runs', async () => {
    const payload = '<img src=x onerror="window.__pwned=1;alert(1)">';
    const script = '<script>window.__pwned=1;alert(2)</script>';
    const eventId = await sendGithub('gh-shop', payload, { title: script, html: payload, nested: { svg: '<svg onload="alert(3)"></svg>' } }, { 'x-note': script });
    await deliveryOf(eventId, relays.orders, 'SUCCEEDED');

    const context = await browser.newContext({ viewport: { width: 1360, height: 860 } });
    const { page, dialogs, problems } = await signedIn(context, TEST_ADMIN_TOKEN);
    await page.locator('tr[data-delivery] td.mono', { hasText: payload }).first().waitFor({ timeout: TIMEOUT });
    await page.goto(`${app.url}/#/event/${eventId}`);
    await page.locator('[data-testid=event-type]', { hasText: payload }).waitFor({ timeout: TIMEOUT });
    await page.screenshot({ path: path.join(REPO_ROOT, 'dist/screenshots/hostile-event.png'), fullPage: true });
    const body = await page.locator('[data-testid=event-body]').textContent();
    expect(body).toContain(script);
    expect(body).toContain('<svg onload=\\"alert(3)\\"></svg>');
    expect(await page.locator('main').textContent()).toContain(script);
    // Shown as text: no element was made of it.
    expect(await page.locator('main img, main svg, main script').count()).toBe(0);
    expect(await page.evaluate(() => (globalThis as { __pwned?: number }).__pwned)).toBeUndefined();
    expect(dialogs).toEqual([]);
    expect(await violations(page)).toEqual([]);
    expect(problems).toEqual([]);

    // And the CSP is the second wall: HTML forced into the page still runs no inline handler.
    await page.evaluate((html) => (globalThis as unknown as PageGlobals).document.body.insertAdjacentHTML('beforeend', html), payload);
    await waitUntil(async () => ((await violations(page)).length > 0 ? true : undefined), TIMEOUT, 'the CSP to refuse the inline handler');
    expect((await violations(page))[0]).toMatch(/^script-src/);
    expect(await page.evaluate(() => (globalThis as { __pwned?: number }).__pwned)).toBeUndefined();
    expect(dialogs).toEqual([]);

    const response = await fetch(app.url);
    expect(response.headers.get('content-security-policy')).toBe(CONSOLE_CSP);
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    await context.close();
  });

  it('pages to older deliveries below the live ones', async () => {
    // More deliveries than the list's first page (50): published events, each to the catch-all relay.
    for (let i = 0; i < 45; i++) await admin(PublishEventDocument, { type: 'paging.test', payload: { n: i } });
    const { deliveries } = await admin(DeliveriesDocument, { first: 100 });
    const all = deliveries.edges.map((edge) => edge.node.id);
    expect(all.length).toBeGreaterThan(50);
    expect(all.length).toBeLessThanOrEqual(100);

    const context = await browser.newContext({ viewport: { width: 1360, height: 860 } });
    const { page, problems } = await signedIn(context, TEST_ADMIN_TOKEN);
    await page.locator('tr[data-delivery]').nth(49).waitFor({ timeout: TIMEOUT });
    expect(await page.locator('tr[data-delivery]').count()).toBe(50);
    await page.click('button[name=older]');
    // The oldest delivery appears below, and with no page left the button goes.
    await page.locator(`tr[data-delivery="${all.at(-1)}"]`).waitFor({ timeout: TIMEOUT });
    await page.locator('button[name=older]').waitFor({ state: 'detached', timeout: TIMEOUT });
    expect(await page.locator('tr[data-delivery]').evaluateAll((rows) => rows.map((row) => row.getAttribute('data-delivery')))).toEqual(all);
    // Live rows still arrive on top of a paged list.
    const { publishEvent } = await admin(PublishEventDocument, { type: 'paging.live', payload: {} });
    await page.locator('tr[data-delivery] td:nth-child(3)', { hasText: 'paging.live' }).waitFor({ timeout: TIMEOUT });
    expect(await page.locator('tr[data-delivery]').count()).toBe(all.length + 1);
    expect(publishEvent.id).toBeDefined();
    expect(problems).toEqual([]);
    await context.close();
  });

  it('says so when a token is refused, and shows a READ token everything but no button that mutates', async () => {
    const context = await browser.newContext({ viewport: { width: 1360, height: 860 } });
    const refused = await context.newPage();
    await refused.goto(app.url);
    await refused.fill('input[name=token]', 'hky_not-a-real-token');
    await refused.click('button[type=submit]');
    await refused.locator('.error', { hasText: 'refused' }).waitFor({ timeout: TIMEOUT });
    // A PUBLISH token is a valid token that may read nothing: it is told so, not shown empty pages.
    const { createApiToken: publisher } = await admin(CreateApiTokenDocument, { input: { name: 'billing publisher', scope: 'PUBLISH' } });
    await refused.fill('input[name=token]', publisher.token);
    await refused.click('button[type=submit]');
    await refused.locator('.error', { hasText: 'PUBLISH token' }).waitFor({ timeout: TIMEOUT });
    expect(await refused.locator('[data-testid=scope]').count()).toBe(0);
    await refused.close();

    // An unsigned webhook: refused (401) and listed with its reason on the sources page.
    const unsigned = await fetch(`${app.url}/ingest/gh-docs`, { method: 'POST', headers: { 'x-github-event': 'push', 'content-type': 'application/json' }, body: '{}' });
    expect(unsigned.status).toBe(401);

    const { page, problems } = await signedIn(context, readToken);
    expect(await page.locator('[data-testid=scope]').textContent()).toContain('READ');
    await page.locator('tr[data-delivery]').first().waitFor({ timeout: TIMEOUT });

    const { deliveries } = await admin(DeliveriesDocument, { filter: { relayId: relays.billing, status: ['DEAD'] }, first: 1 });
    const dead = deliveries.edges[0]!.node;
    await page.goto(`${app.url}/#/delivery/${dead.id}`);
    await page.locator('[data-testid=delivery-status]', { hasText: 'DEAD' }).waitFor({ timeout: TIMEOUT });
    expect(await page.locator('button[data-action]').count()).toBe(0);
    await page.goto(`${app.url}/#/event/${dead.event.id}`);
    await page.locator('[data-testid=event-type]').waitFor({ timeout: TIMEOUT });
    expect(await page.locator('button[data-action]').count()).toBe(0);
    await page.click('a.tab[href="#/relays"]');
    await page.locator(`tr[data-relay="${relays.billing}"]`).waitFor({ timeout: TIMEOUT });
    expect(await page.locator('button[data-action]').count()).toBe(0);
    // Relay URLs come masked for READ tokens.
    expect(await page.locator(`tr[data-relay="${relays.billing}"]`).textContent()).not.toContain('/billing');

    await page.click('a.tab[href="#/sources"]');
    await page.locator('[data-testid=sources]', { hasText: `${app.url.replace('127.0.0.1', 'localhost')}/ingest/gh-docs` }).waitFor({ timeout: TIMEOUT });
    await page.locator('[data-testid=rejected] tr', { hasText: 'gh-docs' }).waitFor({ timeout: TIMEOUT });
    expect(await page.locator('[data-testid=sources] tr', { hasText: 'gh-docs' }).textContent()).toMatch(/401 [A-Z_]+/);
    await page.screenshot({ path: path.join(REPO_ROOT, 'dist/screenshots/sources.png') });

    // Search: a delivery id opens it, an event id too; an idempotency key lists its events; nonsense says so.
    await page.fill('input[name=search]', dead.id);
    await page.press('input[name=search]', 'Enter');
    await page.locator('[data-testid=delivery-status]', { hasText: 'DEAD' }).waitFor({ timeout: TIMEOUT });
    const key = (await page.locator('dd.mono', { hasText: /^[0-9a-f-]{36}$/ }).allTextContents()).find((text) => text !== dead.id && text !== dead.event.id);
    expect(key).toBeDefined();
    await page.fill('input[name=search]', dead.event.id);
    await page.press('input[name=search]', 'Enter');
    // The delivery page on screen shows an event type too: wait for the route, then the event's page.
    await waitUntil(() => (page.url().endsWith(`#/event/${dead.event.id}`) ? true : undefined), TIMEOUT, 'the event\'s page from its id');
    await page.locator('[data-testid=event-type]').waitFor({ timeout: TIMEOUT });
    await page.fill('input[name=search]', key!);
    await page.press('input[name=search]', 'Enter');
    await page.locator(`a[href="#/event/${dead.event.id}"]`).waitFor({ timeout: TIMEOUT });
    await page.fill('input[name=search]', 'no-such-thing');
    await page.press('input[name=search]', 'Enter');
    await page.locator('text=No delivery, event or idempotency key matches.').waitFor({ timeout: TIMEOUT });
    await page.goto(`${app.url}/#/delivery/not-an-id`);
    await page.locator('.error', { hasText: 'No delivery not-an-id' }).waitFor({ timeout: TIMEOUT });

    // Revoked while the page is open: its live socket closes (4403) and the console signs out.
    await admin(RevokeApiTokenDocument, { id: readTokenId });
    await page.locator('.sign-in .error', { hasText: 'revoked' }).waitFor({ timeout: TIMEOUT });
    expect(await page.evaluate(() => sessionStorage.getItem('hookyard.token'))).toBeNull();
    expect(problems).toEqual([]);
    await context.close();
  });
});
