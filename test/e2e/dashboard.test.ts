// The dashboard in Debian's Chromium (playwright-core, a fresh temporary profile), against the
// real server and worker:
// sign in, create a subscription through the UI, send a test event, watch it go DELIVERED
// without a reload, then RETRYING → DELIVERED when the receiver fails once, then open the event.
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stack } from '../helpers/api.ts';
import { TestReceiver } from '../helpers/receiver.ts';

const SCREENSHOTS = join(import.meta.dirname, 'screenshots');
const CHROMIUM = '/usr/bin/chromium';

const receiver = TestReceiver.forFile();
let browser: Browser;
let page: Page;
const consoleErrors: string[] = [];

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install chromium (.ci/run does)`);
  mkdirSync(SCREENSHOTS, { recursive: true });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.on('console', (message) => {
    if (message.type() === 'error') consoleErrors.push(message.text());
  });
  page.on('pageerror', (error) => consoleErrors.push(error.message));
}, 60_000);

afterAll(async () => {
  await browser?.close();
});

async function screenshot(name: string) {
  await page.screenshot({ path: join(SCREENSHOTS, `${name}-1280.png`), fullPage: true });
  await page.setViewportSize({ width: 390, height: 844 });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}-390.png`), fullPage: true });
  await page.setViewportSize({ width: 1280, height: 900 });
}

/** What the test-event form says after a send: the sent event's link, or the error it shows. */
async function sendOutcome(): Promise<string> {
  const result = page.locator('form[aria-label="Send a test event"] .form-result');
  const link = result.locator('a');
  return (await link.count()) > 0 ? `sent ${await link.getAttribute('href')}` : `not sent: ${await result.textContent()}`;
}
const badgeOf = (eventId: string) => page.locator(`[data-testid="event-row"][data-event-id="${eventId}"] [data-testid="status-badge"]`);

describe('dashboard', () => {
  it('signs in, creates a subscription, sends events and shows them live', async () => {
    await page.goto(stack().url);
    // The API has tokens: the sign-in screen comes first.
    await page.getByTestId('signin-token').fill(stack().token);
    await screenshot('signin');
    await page.getByTestId('signin-submit').click();
    await expect.poll(() => page.getByTestId('connection-status').textContent(), { timeout: 15_000 }).toBe('live');

    // Create a subscription through the form.
    const name = `e2e ${Date.now()}`;
    await page.getByTestId('create-name').fill(name);
    await page.getByTestId('create-targetUrl').fill(`${receiver.url}/e2e`);
    // A filter, so other files' publishEvent fan-outs do not reach this receiver.
    await page.getByTestId('create-eventTypes').fill('order.*');
    await page.getByTestId('create-submit').click();
    const row = page.getByTestId('subscription-row').filter({ hasText: name });
    await row.waitFor({ timeout: 10_000 });
    await screenshot('subscriptions');

    // Its page; send a test event from the UI.
    await row.getByRole('link').first().click();
    await page.getByTestId('test-event-type').fill('order.created');
    await page.getByTestId('test-event-payload').fill('{"order": 1}');
    await page.getByTestId('test-event-submit').click();
    // The form's own answer first, so that a failure says which half failed: the send or the list.
    await expect.poll(sendOutcome, { timeout: 10_000 }).toMatch(/^sent /);
    const firstSend = await sendOutcome();
    const firstRow = page.getByTestId('event-row').first();
    await firstRow.waitFor({ timeout: 10_000 }).catch(async (error: Error) => {
      throw new Error(`${error.message}\nthe events list showed: ${await page.locator('ul.rows').first().textContent()}`);
    });
    const firstId = (await firstRow.getAttribute('data-event-id'))!;
    expect(firstSend).toContain(firstId);
    await expect.poll(() => badgeOf(firstId).textContent(), { timeout: 15_000 }).toContain('DELIVERED');
    expect(receiver.requestsFor(firstId)).toHaveLength(1);

    // The receiver fails once: RETRYING, then DELIVERED, all without a reload. RETRYING lasts
    // only a retry delay, so the page itself records every badge it renders (polling from
    // here could fall between two renders on a loaded machine), and Retry-After stretches the
    // delay to the schedule's longest.
    receiver.script('/e2e', { status: 503, body: 'try again', headers: { 'retry-after': '2' } });
    await page.evaluate(() => {
      const rendered: string[] = [];
      (window as unknown as { renderedBadges: string[] }).renderedBadges = rendered;
      const record = () => {
        for (const badge of document.querySelectorAll('[data-testid="event-row"] [data-testid="status-badge"]')) {
          const id = badge.closest('[data-event-id]')?.getAttribute('data-event-id');
          rendered.push(`${id} ${badge.textContent}`);
        }
      };
      new MutationObserver(record).observe(document.body, { subtree: true, childList: true, characterData: true });
    });
    await page.getByTestId('test-event-payload').fill('{"order": 2}');
    await page.getByTestId('test-event-submit').click();
    await expect
      .poll(
        async () => {
          const outcome = await sendOutcome();
          return outcome === firstSend ? 'not sent: the first event still shown' : outcome;
        },
        { timeout: 10_000 },
      )
      .toMatch(/^sent /);
    await expect.poll(async () => page.getByTestId('event-row').count(), { timeout: 10_000 }).toBeGreaterThanOrEqual(2);
    const secondId = (await page.getByTestId('event-row').first().getAttribute('data-event-id'))!;
    expect(secondId).not.toBe(firstId);
    await expect.poll(() => badgeOf(secondId).textContent(), { timeout: 15_000 }).toContain('DELIVERED');
    const rendered: string[] = await page.evaluate(() => (window as unknown as { renderedBadges: string[] }).renderedBadges);
    const seen = new Set(rendered.filter((line) => line.startsWith(`${secondId} `)).map((line) => line.slice(secondId.length + 1).trim()));
    expect(seen.has('RETRYING')).toBe(true);
    await screenshot('subscription');

    // The event page: its attempts.
    await page.locator(`[data-testid="event-row"][data-event-id="${secondId}"] a`).first().click();
    await expect.poll(() => page.getByTestId('attempt-row').count(), { timeout: 10_000 }).toBe(2);
    await expect.poll(() => page.getByTestId('redeliver').isVisible()).toBe(true);
    await screenshot('event');

    // The live page.
    await page.goto(`${stack().url}/live`);
    await page.getByTestId('connection-status').waitFor();
    await screenshot('live');

    expect(consoleErrors).toEqual([]);
  }, 90_000);
});
