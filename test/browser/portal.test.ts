/**
 * The customer's billing page in a real browser: Debian's Chromium driven by playwright-core. A month is walked with
 * the test clock so that the page has an invoice, a failed charge, a cluster and credits to show. Screenshots at
 * 1280 and 375 px go to test-results/portal/.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import {
  acmeBillingInfo,
  changePlan,
  createBillingOrganization,
  getInvoice,
  listInvoices,
  putPlan,
  registerCluster,
  runBilling,
  runJobs,
  sendUsage,
  setBillingInfo,
} from '../http/invoice-fixtures.js';
import { http, mintJwt, startTestApp, type OrganizationFixture, type TestApp } from '../support/test-app.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SCREENSHOTS = path.resolve('test-results/portal');
const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

let app: TestApp;
let browser: Browser;
let org: OrganizationFixture;
let other: OrganizationFixture;
let failingCardId: string;

async function portalLink(organizationId: string, body: Record<string, unknown> = {}): Promise<string> {
  const result = await http(app, 'POST', `/admin/organizations/${organizationId}/portal-sessions`, { headers: app.admin, body });
  assert.equal(result.status, 201, result.text);
  return result.body.url;
}

/** A browser context (its own cookies) signed in through a fresh portal link, on the billing page. */
async function openPortal(width = 1280): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport: { width, height: 900 }, acceptDownloads: true });
  const page = await context.newPage();
  const response = await page.goto(await portalLink(org.id, { return_url: 'https://console.example.test/settings', user_id: 'platform-user-7' }));
  assert.equal(response?.status(), 200);
  assert.equal(new URL(page.url()).pathname, `/portal/${org.id}`);
  return { context, page };
}

async function screenshot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

before(async () => {
  assert.ok(existsSync(CHROMIUM), `Chromium is expected at ${CHROMIUM} (.ci/run installs Debian's chromium package)`);
  mkdirSync(SCREENSHOTS, { recursive: true });
  app = await startTestApp();
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });

  // January: an invoiced plan, a card that attaches but refuses every charge, a cluster with usage.
  app.clock.set(new Date('2026-01-05T00:00:00Z'));
  await putPlan(app, 'STARTUP', { monthly: 9900, kind: 'invoiced', name: 'Startup' });
  const scale = await http(app, 'PUT', '/admin/plans/SCALE', {
    headers: app.admin,
    body: { name: 'Scale', monthly_price_in_cents: 29900, currency: 'USD', kind: 'invoiced', trial_days: 0, selectable: true },
  });
  assert.equal(scale.status, 201, scale.text);
  assert.equal(scale.body.selectable, true);
  org = await createBillingOrganization(app, { name: 'Acme' });
  other = await createBillingOrganization(app, { name: 'Umbrella Secret Labs' });
  await setBillingInfo(app, org, acmeBillingInfo);
  await changePlan(app, org, 'STARTUP');
  const failing = await http(app, 'POST', `/organization/${org.id}/creditCard`, {
    headers: org.owner,
    body: { number: '4000000000000341', cvv: '123', expiry_month: 12, expiry_year: 2030 },
  });
  assert.equal(failing.status, 201, failing.text);
  failingCardId = failing.body.id;
  const cluster = await registerCluster(app, org.id, { name: 'production', hourly: 20, minNodes: 1, maxNodes: 3 });
  app.clock.set(new Date('2026-01-20T00:00:00Z'));
  await sendUsage(app, org.id, cluster, 400, '2026-01-15T00:00:00Z');

  // February 1: January's invoice; its charge fails.
  app.clock.set(new Date('2026-02-01T00:00:05Z'));
  await runBilling(app, '2026-02-01T00:00:00Z');
  await runJobs(app);
  const [invoice] = await listInvoices(app, org);
  assert.equal(invoice.status, 'NOT_PAID');
  // Ten days later the invoice is overdue: billing is not valid.
  app.clock.set(new Date('2026-02-10T12:00:00Z'));
  await sendUsage(app, org.id, cluster, 50, '2026-02-09T00:00:00Z');
});

after(async () => {
  await browser?.close();
  await app?.close();
});

describe('the billing page in Chromium', () => {
  it('opens from a portal link and shows the month walked with the test clock, at 1280 and 375 px', async () => {
    const { context, page } = await openPortal();
    const banner = page.getByRole('alert').filter({ hasText: 'Billing is not valid' });
    await banner.waitFor();
    assert.match(await banner.innerText(), /What to do/);
    const invoices = page.locator('#invoices');
    assert.match(await invoices.innerText(), /INV-000001/);
    assert.match(await invoices.innerText(), /Jan 1 – Jan 31, 2026/);
    assert.match(await invoices.innerText(), /Not paid/);
    const [invoice] = await listInvoices(app, org);
    assert.ok((await invoices.innerText()).includes(`$${invoice.total.toFixed(2)} USD`));
    const clusters = await page.locator('#clusters').innerText();
    assert.match(clusters, /production/);
    assert.match(clusters, /Guaranteed maximum/i);
    assert.match(await page.locator('#plan').innerText(), /Startup/);
    assert.match(await page.locator('#plan').innerText(), /Mar 1, 2026/);
    await screenshot(page, 'billing-1280');
    await page.screenshot({ path: path.join(SCREENSHOTS, 'billing-1280-top.png') });
    await page.setViewportSize({ width: 375, height: 800 });
    await screenshot(page, 'billing-375');
    await page.screenshot({ path: path.join(SCREENSHOTS, 'billing-375-top.png') });
    // Nothing overflows sideways on a phone.
    // (a string runs in the page: this file is compiled without the DOM's types)
    const overflow: number = await page.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth');
    assert.ok(overflow <= 0, `the page is ${overflow}px wider than a 375px screen`);
    await context.close();
  });

  it('downloads an invoice PDF', async () => {
    const { context, page } = await openPortal();
    const [download] = await Promise.all([page.waitForEvent('download'), page.locator('#invoices a', { hasText: 'PDF' }).first().click()]);
    const file = await download.path();
    assert.ok(file);
    assert.equal(readFileSync(file).subarray(0, 5).toString(), '%PDF-');
    await context.close();
  });

  it('changes the city, read back through GET billingInfo; a blank field is refused next to it', async () => {
    const { context, page } = await openPortal();
    await page.getByLabel('City', { exact: true }).last().fill('');
    await page.getByRole('button', { name: 'Save billing details' }).click();
    const cityError = page.locator('#details-city-error');
    assert.equal(await cityError.innerText(), 'Fill in this field.');
    assert.equal(await page.locator('#details-city').getAttribute('aria-invalid'), 'true');
    await screenshot(page, 'field-error-1280');

    await page.locator('#details-city').fill('Lyon');
    await page.getByRole('button', { name: 'Save billing details' }).click();
    await page.getByRole('status').filter({ hasText: 'Your billing details are saved.' }).waitFor();
    const info = await http(app, 'GET', `/organization/${org.id}/billingInfo`, { headers: org.owner });
    assert.equal(info.body.city, 'Lyon');
    assert.equal(info.body.company, 'Acme SAS');
    // Audited as the portal, with the platform's user.
    const audit = await http(app, 'GET', `/admin/organizations/${org.id}/audit-events`, { headers: app.admin });
    const change = audit.body.results.find((event: any) => event.actor_type === 'portal');
    assert.ok(change, 'no audit event by the portal');
    assert.equal(change.actor_id, 'platform-user-7');
    await context.close();
  });

  it('adds a sandbox card, makes it the one charged, and the failed invoice gets paid', async () => {
    const { context, page } = await openPortal();
    const cardForm = page.getByRole('form', { name: 'Add a card' });
    await cardForm.getByLabel('Card number').fill('4000 0000 0000 0002');
    await cardForm.getByLabel('Expiry month').selectOption('12');
    await cardForm.getByLabel('Expiry year').fill('2030');
    await cardForm.getByLabel('Security code (CVC)').fill('123');
    await cardForm.getByRole('button', { name: 'Add card' }).click();
    // A declined card is refused in plain words, and the number typed is not sent back into the page.
    assert.match(await page.locator('#card-form-error').innerText(), /The card was not accepted/);
    assert.equal(await page.locator('#card-number').inputValue(), '');

    await cardForm.getByLabel('Card number').fill('4242 4242 4242 4242');
    await cardForm.getByLabel('Expiry month').selectOption('12');
    await cardForm.getByLabel('Expiry year').fill('2030');
    await cardForm.getByLabel('Security code (CVC)').fill('123');
    await cardForm.getByRole('button', { name: 'Add card' }).click();
    await page.getByRole('status').filter({ hasText: 'The card is added.' }).waitFor();
    const cards = page.getByRole('list', { name: 'Cards on file' });
    assert.match(await cards.innerText(), /Visa ending in 4242, expires 12\/2030/);

    // The new card is the one charged: made the default by its button (unless it replaced the failing default by
    // itself), and the unpaid invoice is charged to it by the retry the change queues.
    const defaultBadge = (last4: string) => cards.locator('li', { hasText: `ending in ${last4}` }).locator('.badge');
    const makeDefault = (last4: string) => page.getByRole('button', { name: `Make Visa ending in ${last4} the default card` });
    if ((await defaultBadge('4242').count()) === 0) {
      await makeDefault('4242').click();
      await page.getByRole('status').filter({ hasText: 'The default card is changed.' }).waitFor();
    }
    assert.equal(await defaultBadge('4242').count(), 1);
    app.clock.set(new Date(app.clock.now().getTime() + 60_000));
    await runJobs(app);
    await page.reload();
    assert.match(await page.locator('#invoices').innerText(), /Paid/);
    assert.equal(await page.getByRole('alert').filter({ hasText: 'Billing is not valid' }).count(), 0);
    const [invoice] = await listInvoices(app, org);
    assert.equal((await getInvoice(app, org, invoice.id)).status, 'PAID');

    // Either card can be made the default from the page; the refusing one is then deleted.
    await makeDefault('0341').click();
    await page.getByRole('status').filter({ hasText: 'The default card is changed.' }).waitFor();
    assert.equal(await defaultBadge('0341').count(), 1);
    await makeDefault('4242').click();
    await page.getByRole('status').filter({ hasText: 'The default card is changed.' }).waitFor();
    assert.equal(await defaultBadge('4242').count(), 1);
    await page.getByRole('button', { name: 'Delete Visa ending in 0341' }).click();
    await page.getByRole('status').filter({ hasText: 'The card is deleted.' }).waitFor();
    assert.doesNotMatch(await cards.innerText(), /0341/);
    assert.ok(failingCardId);
    await context.close();
  });

  it('redeems a credit code and shows the balance', async () => {
    const code = await http(app, 'POST', '/admin/credit-codes', { headers: app.admin, body: { code: 'PORTAL-WELCOME', amount_in_cents: 2500, currency: 'USD' } });
    assert.equal(code.status, 201, code.text);
    const { context, page } = await openPortal(375);
    await page.getByLabel('Credit code').fill('nope-nope');
    await page.getByRole('button', { name: 'Redeem' }).click();
    assert.equal(await page.locator("#credit-code-code-error").innerText(), "No credit code matches this code.");
    await page.getByLabel('Credit code').fill('portal-welcome');
    await page.getByRole('button', { name: 'Redeem' }).click();
    await page.getByRole('status').filter({ hasText: 'The credit code is redeemed.' }).waitFor();
    assert.equal(await page.locator('#credit-balance').innerText(), '$25.00');
    assert.match(await page.locator('#credits').innerText(), /\$25\.00/);
    await context.close();
  });

  it('refuses a used link, and another organization’s id answers 404 with none of its data', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const url = await portalLink(org.id, { return_url: 'https://console.example.test/back' });
    assert.equal((await page.goto(url))?.status(), 200);
    const again = await page.goto(url);
    assert.equal(again?.status(), 410);
    assert.equal(await page.getByRole('heading', { level: 1 }).innerText(), 'This link has already been used');
    assert.equal(await page.getByRole('link', { name: 'Go back to your console' }).getAttribute('href'), 'https://console.example.test/back');

    // Still signed in to Acme: Umbrella's page is not found, and says nothing about Umbrella.
    const foreign = await page.goto(`${app.baseUrl}/portal/${other.id}`);
    assert.equal(foreign?.status(), 404);
    const text = await page.content();
    assert.ok(!text.includes('Umbrella'), 'the 404 page shows the other organization');
    assert.ok(!text.includes('Acme'));
    await context.close();
  });

  it('serves a platform user by the __session JWT, with their role', async () => {
    const context = await browser.newContext();
    const host = new URL(app.baseUrl).hostname;
    const page = await context.newPage();
    await context.addCookies([{ name: '__session', value: await mintJwt(`owner-${org.id}`, { org_id: org.id }), domain: host, path: '/' }]);
    assert.equal((await page.goto(`${app.baseUrl}/portal/${org.id}`))?.status(), 200);
    assert.match(await page.locator('#details').innerText(), /Billing details/);
    await context.clearCookies();
    await context.addCookies([{ name: '__session', value: await mintJwt(`member-${org.id}`, { org_id: org.id }), domain: host, path: '/' }]);
    assert.equal((await page.goto(`${app.baseUrl}/portal/${org.id}`))?.status(), 403);
    await context.close();
  });

  it('has no serious accessibility violations (axe-core), and loads nothing from another host', async () => {
    const { context, page } = await openPortal();
    const foreignRequests: string[] = [];
    page.on('request', (request) => {
      if (!request.url().startsWith(app.baseUrl)) foreignRequests.push(request.url());
    });
    await page.reload();
    // Run through the DevTools protocol: the page's own policy allows no script, and that is what it should do.
    await page.evaluate(axeSource);
    const seriousViolations = async (): Promise<any[]> => {
      const results: any[] = await page.evaluate(`axe.run(document, { resultTypes: ['violations'] }).then((run) =>
        run.violations.map((violation) => ({ id: violation.id, impact: violation.impact, nodes: violation.nodes.length, help: violation.help })))`);
      return results.filter((violation) => violation.impact === 'serious' || violation.impact === 'critical');
    };
    assert.deepEqual(await seriousViolations(), []);
    // On a phone, and with errors next to the fields.
    await page.setViewportSize({ width: 375, height: 800 });
    await page.locator('#details-email').fill('not an address');
    await page.getByRole('button', { name: 'Save billing details' }).click();
    assert.equal(await page.locator('#details-email-error').innerText(), 'Enter an e-mail address, like name@example.com.');
    await screenshot(page, 'field-error-375');
    await page.evaluate(axeSource);
    assert.deepEqual(await seriousViolations(), []);
    assert.deepEqual(foreignRequests, []);
    await context.close();
  });
});
