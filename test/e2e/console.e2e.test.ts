import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ServiceBusClient } from '@azure/service-bus';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { publishBaskets } from '../harness/convoyClient';
import { appRoot, orderEventsQueue, startStack, type Stack } from '../harness/stack';
import { toServiceBusMessage } from '../../src/adapters/serviceBusPublisher';
import { settingNames } from '../../src/config';
import { eventEnvelopeSchema } from '../../src/domain/events';
import { paidBasket } from '../int/functions/support/basket';

/**
 * The console in a real browser (headless Chromium from @sparticuz/chromium, driven by puppeteer-core)
 * against the whole local stack: baskets reach Fulfilled on the page, a basket whose event sits in the
 * dead-letter queue is listed as stuck with the reason, one click on its replay heals it. Any error in
 * the browser's console, any failed request and any error answer the page gets fails the test. It
 * writes docs/console.png (shown in the README) while the stuck basket is on screen.
 */

const hostJson: unknown = JSON.parse(readFileSync(join(appRoot, 'host.json'), 'utf8'));
const screenshotPath = join(appRoot, 'docs', 'console.png');
const pageTimeoutMs = 60_000;
const run = `console-${Date.now().toString(36)}`;
const stuckBasket = `${run}-stuck`;
const goodBaskets = ['a', 'b', 'c'].map((suffix) => `${run}-${suffix}`);
/** A message no basket can own (no basket id in its body), in a session of its own: it goes to quarantine. */
const poisonMessageId = `${run}-poison:junk`;
const deadLetterReason = 'PoisonedByTest';
/** Not checked locally; the page must pass it on as in Azure. */
const functionKey = 'e2e-function-key';
/** What the operator pastes into the page for its actions (the master key in Azure). */
const adminKey = 'e2e-admin-key';
/**
 * Short enough that the dead-lettered basket is stuck within seconds (GET /api/console/stuck judges
 * when asked, so the watchdog's schedule does not matter here).
 */
const consoleSettings: Record<string, string> = { [settingNames.stuckThresholdSeconds]: '3' };

/**
 * With the host stopped, sends the basket's sequence 2 alone and dead-letters it, then sends 1, 3 and 4:
 * the restarted host applies 1 and parks 3 and 4 behind the dead letter.
 */
async function deadLetterSequence2(stack: Stack, basketId: string): Promise<void> {
  await stack.host.stop();
  // Published now (the fixture's occurredAt is a fixed date), so the console's latency is a real one.
  const occurredAt = new Date().toISOString();
  const [first, second, ...rest] = paidBasket(basketId).map((body) =>
    toServiceBusMessage(eventEnvelopeSchema.parse({ ...body, occurredAt })),
  );
  assert.ok(first !== undefined && second !== undefined);
  const client = new ServiceBusClient(stack.emulator.connectionString);
  try {
    const sender = client.createSender(orderEventsQueue);
    await sender.sendMessages(second);
    const receiver = await client.acceptSession(orderEventsQueue, basketId);
    const [message] = await receiver.receiveMessages(1, { maxWaitTimeInMs: 10_000 });
    assert.equal(message?.messageId, `${basketId}:2`);
    await receiver.deadLetterMessage(message, {
      deadLetterReason,
      deadLetterErrorDescription: 'dead-lettered by the console e2e test',
    });
    await receiver.close();
    await sender.sendMessages([first, ...rest]);
  } finally {
    await client.close();
  }
  await stack.restartHost();
}

async function publishPoison(stack: Stack): Promise<void> {
  const client = new ServiceBusClient(stack.emulator.connectionString);
  try {
    const sender = client.createSender(orderEventsQueue);
    await sender.sendMessages({
      body: { hello: 'not an order event' },
      messageId: poisonMessageId,
      sessionId: `${run}-poison`,
      contentType: 'application/json',
    });
  } finally {
    await client.close();
  }
}

/** Everything that went wrong in the browser: console errors, page errors, failed or error requests. */
function watchBrowserProblems(page: Page): string[] {
  const problems: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error' || message.type() === 'warn')
      problems.push(`console ${message.type()}: ${message.text()}`);
  });
  page.on('pageerror', (error) =>
    problems.push(`page error: ${error instanceof Error ? error.message : String(error)}`),
  );
  page.on('requestfailed', (request) =>
    problems.push(`request failed: ${request.method()} ${request.url()} ${request.failure()?.errorText ?? ''}`),
  );
  page.on('request', (request) => {
    // The page was opened with ?code=<key>: every read carries that key as a header, every operator
    // action (POST) the admin key the operator pasted, and no call has a key in its URL.
    if (request.isNavigationRequest()) return;
    if (['code=', functionKey, adminKey].some((text) => request.url().includes(text)))
      problems.push(`key in a URL: ${request.url()}`);
    const expected = request.method() === 'POST' ? adminKey : functionKey;
    if (request.headers()['x-functions-key'] !== expected)
      problems.push(`call without the expected key header: ${request.method()} ${request.url()}`);
  });
  page.on('response', (response) => {
    if (response.status() >= 400) problems.push(`error answer: ${response.status()} ${response.url()}`);
  });
  return problems;
}

/**
 * Waits until a JavaScript expression is true in the page (an expression, not a function: this file
 * is compiled without the DOM's types); a timeout names what was awaited and shows the panels.
 */
async function waitForPage(page: Page, what: string, expression: string): Promise<void> {
  try {
    await page.waitForFunction(expression, { timeout: pageTimeoutMs, polling: 250 });
  } catch (error) {
    const shown = await page.evaluate("document.querySelector('main').innerText").catch(() => '');
    throw new Error(
      `${what}: not seen within ${String(pageTimeoutMs)} ms (${String(error)}). The page showed:\n${String(shown)}`,
    );
  }
}

const js = (value: string): string => JSON.stringify(value);
const present = (selector: string): string => `document.querySelector(${js(selector)}) !== null`;
const absent = (selector: string): string => `document.querySelector(${js(selector)}) === null`;
const textOf = (selector: string): string => `(document.querySelector(${js(selector)})?.textContent ?? '')`;
const basketRow = (basketId: string): string => `tr[data-basket-row=${js(basketId)}]`;
const stuckItem = `[data-stuck-basket=${js(stuckBasket)}]`;

describe('console in a headless browser (local stack + Chromium)', { timeout: 240_000 }, () => {
  let stack: Stack | undefined;
  let browser: Browser | undefined;
  let page: Page | undefined;
  let problems: string[] = [];
  const opened = (): { stack: Stack; page: Page } => {
    assert.ok(stack !== undefined && page !== undefined, 'stack and browser not started');
    return { stack, page };
  };

  before(async () => {
    // The host child inherits this process's environment (each test file runs in its own process).
    Object.assign(process.env, consoleSettings);
    stack = await startStack({ hostJson, storageProxy: true });
    await deadLetterSequence2(stack, stuckBasket);
    await publishPoison(stack);
    const { default: chromium } = await import('@sparticuz/chromium');
    browser = await puppeteer.launch({
      executablePath: await chromium.executablePath(),
      args: chromium.args,
      headless: true,
      defaultViewport: { width: 1440, height: 1000 },
    });
    page = await browser.newPage();
    problems = watchBrowserProblems(page);
    const response = await page.goto(`${stack.host.url}/api/console?code=${functionKey}`, { waitUntil: 'load' });
    assert.equal(response?.status(), 200);
    assert.match(response.headers()['content-security-policy'] ?? '', /default-src 'none'/);
  });
  after(async () => {
    await browser?.close();
    await stack?.stop();
    for (const name of Object.keys(consoleSettings)) Reflect.deleteProperty(process.env, name);
  });

  it('shows published baskets reaching Fulfilled, live, without a reload', async () => {
    const { stack, page } = opened();
    await publishBaskets(stack.host.url, {
      baskets: goodBaskets.map((basketId) => ({
        basketId,
        currency: 'EUR',
        items: [{ sku: 'SKU-3', quantity: 1, unitPrice: 12 }],
      })),
    });
    for (const basketId of goodBaskets) {
      await waitForPage(
        page,
        `${basketId} Fulfilled in the baskets list`,
        `${textOf(`${basketRow(basketId)} .badge`)} === 'Fulfilled'`,
      );
    }
    await waitForPage(
      page,
      `the overview counting at least ${String(goodBaskets.length)} Fulfilled`,
      `Number(${textOf('[data-status="Fulfilled"]')}) >= ${String(goodBaskets.length)}`,
    );
    assert.deepEqual(problems, []);
  });

  it('lists the dead-lettered basket as stuck with the reason, shows its timeline, and writes docs/console.png', async () => {
    const { page } = opened();
    await waitForPage(page, `${stuckBasket} listed as stuck`, present(stuckItem));
    const text = String(await page.evaluate(textOf(stuckItem)));
    assert.match(text, /dead-letter/i, text);
    assert.match(text, /\b2\b/, `names sequence 2: ${text}`);
    assert.match(text, new RegExp(deadLetterReason), `shows the broker's reason: ${text}`);
    await waitForPage(
      page,
      'the poison message in the quarantine panel',
      `${textOf('#quarantine')}.includes(${js(poisonMessageId)})`,
    );
    const quarantined = String(await page.evaluate(textOf('#quarantine')));
    assert.match(quarantined, /basket/i, `says why: ${quarantined}`);

    await page.locator(`${stuckItem} button[data-basket-id]`).click();
    await waitForPage(
      page,
      `${stuckBasket}'s timeline with sequences 3 and 4 parked`,
      `${textOf('#timeline strong')} === ${js(stuckBasket)} && document.querySelectorAll('#timeline tr[data-kind="parked"]').length >= 2`,
    );
    mkdirSync(join(appRoot, 'docs'), { recursive: true });
    await page.screenshot({ path: screenshotPath, fullPage: true });
    assert.deepEqual(problems, []);
  });

  it('heals the stuck basket with one click on its replay action, and shows the result', async () => {
    const { page } = opened();
    await page.locator('#admin-key').fill(adminKey);
    await page.locator('#key-form button[type="submit"]').click();
    await waitForPage(page, 'the admin key taken', `${textOf('#key-state')}.startsWith('admin key set')`);
    await page.locator(`${stuckItem} button.primary`).click();
    await waitForPage(page, 'the replay result', present('#stuck .result'));
    const result = String(await page.evaluate(textOf('#stuck .result')));
    assert.match(result, /done/, result);
    assert.match(result, /sequence 2 applied/, result);
    await waitForPage(
      page,
      `${stuckBasket} Fulfilled after the replay`,
      `${textOf(`${basketRow(stuckBasket)} .badge`)} === 'Fulfilled'`,
    );
    await waitForPage(page, `${stuckBasket} no longer stuck`, absent(stuckItem));
    await waitForPage(
      page,
      `${stuckBasket}'s timeline showing sequence 2 applied and the basket Fulfilled`,
      `${textOf('#timeline .toolbar .badge')} === 'Fulfilled' && [...document.querySelectorAll('#timeline tr[data-kind="applied"] td:nth-child(3)')].some((cell) => cell.textContent === '2')`,
    );
    assert.deepEqual(problems, []);
  });

  it('shows the error of a failing API in its panel, keeps polling, and recovers without a reload', async () => {
    const { stack, page } = opened();
    assert.deepEqual(problems, []);
    const storage = stack.storageProxy;
    assert.ok(storage !== undefined);
    storage.cut();
    try {
      await waitForPage(
        page,
        'the storage outage shown in the baskets panel and the header',
        `${present('#baskets-error .error')} && ${textOf('#live')}.startsWith('some views failed')`,
      );
      const shown = String(await page.evaluate(textOf('#baskets-error .error')));
      assert.match(shown, /^5\d\d /, shown);
    } finally {
      storage.restore();
    }
    await waitForPage(
      page,
      'every panel live again',
      `${absent('.error[role="alert"]')} && ${textOf('#live')}.startsWith('live')`,
    );
    // The outage shows as the app's error answers, never as a failed request or a script error.
    const unexpected = problems.filter(
      (p) =>
        !/^error answer: 5\d\d |^console error: Failed to load resource: the server responded with a status of 5\d\d/.test(
          p,
        ),
    );
    assert.deepEqual(unexpected, []);
  });
});
