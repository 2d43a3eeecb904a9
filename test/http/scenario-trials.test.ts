/**
 * Scenario: trials. Only the trial's own window is free: paid time before a trial stays charged (the cost so far
 * never drops at the change), a trial started on a month's last day frees that day only, and an organization gets
 * one trial ever. The cost so far and the invoice agree at every step.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { http, startTestApp, type OrganizationFixture, type TestApp } from '../support/test-app.js';
import { acmeBillingInfo, changePlan, createBillingOrganization, getInvoice, listInvoices, putPlan, runBilling, setBillingInfo } from './invoice-fixtures.js';

async function costSoFar(app: TestApp, org: OrganizationFixture): Promise<{ total: number; trialDays: number }> {
  const result = await http(app, 'GET', `/organization/${org.id}/currentCost`, { headers: org.owner });
  assert.equal(result.status, 200, result.text);
  return { total: result.body.cost.total_in_cents, trialDays: result.body.remaining_trial_day };
}

async function invoiceFor(app: TestApp, org: OrganizationFixture, periodStart: string): Promise<any> {
  const invoice = (await listInvoices(app, org)).find((item) => new Date(item.period_start ?? item.start_date).toISOString() === periodStart);
  assert.ok(invoice, `no invoice for the period starting ${periodStart}`);
  return getInvoice(app, org, invoice.id);
}

const planLines = (invoice: any) => invoice.lines.filter((line: any) => line.kind === 'plan').map((line: any) => [line.description, line.amount_in_cents]);

/**
 * The plan lines, each description matched by a pattern: the test clock runs on from the time set, so a change made
 * "at midnight" happens a few milliseconds after it and its line may also name that day.
 */
function assertPlanLines(invoice: any, expected: Array<[RegExp, number]>): void {
  const actual = planLines(invoice);
  assert.equal(actual.length, expected.length, JSON.stringify(actual));
  expected.forEach(([description, amount], index) => {
    assert.match(actual[index]![0], description);
    assert.equal(actual[index]![1], amount, JSON.stringify(actual));
  });
}

describe('paid time before a trial', () => {
  let app: TestApp;
  before(async () => {
    app = await startTestApp();
  });
  after(() => app.close());

  it('charges the paid days before the trial, frees only the trial window and gives no second trial', async () => {
    app.clock.set(new Date('2026-01-05T00:00:00Z'));
    await putPlan(app, 'BASIC', { monthly: 2999, kind: 'invoiced', name: 'Basic' });
    await putPlan(app, 'PRO', { monthly: 4999, kind: 'invoiced', trialDays: 7, name: 'Pro' });
    const org = await createBillingOrganization(app, { name: 'Paid first' });
    await setBillingInfo(app, org, acmeBillingInfo);
    await changePlan(app, org, 'BASIC');

    // January 20: 15 of 31 days on BASIC, then the move to a plan with a 7-day trial. The paid days stay.
    app.clock.set(new Date('2026-01-20T00:00:00Z'));
    assert.deepEqual(await costSoFar(app, org), { total: 1451, trialDays: 0 });
    await changePlan(app, org, 'PRO');
    assert.deepEqual(await costSoFar(app, org), { total: 1451, trialDays: 7 });
    app.clock.set(new Date('2026-01-26T23:00:00Z'));
    assert.deepEqual(await costSoFar(app, org), { total: 1451, trialDays: 1 });
    // The trial ended: PRO is charged from January 27 (4 of 31 days by January 31).
    app.clock.set(new Date('2026-01-31T00:00:00Z'));
    assert.deepEqual(await costSoFar(app, org), { total: 1451 + 645, trialDays: 0 });
    // The last second of the month: the cost so far is what the invoice charges.
    app.clock.set(new Date('2026-01-31T23:59:59Z'));
    assert.deepEqual(await costSoFar(app, org), { total: 2257, trialDays: 0 });

    app.clock.set(new Date('2026-02-01T00:00:05Z'));
    await runBilling(app, '2026-02-01T00:00:00Z');
    const january = await invoiceFor(app, org, '2026-01-01T00:00:00.000Z');
    assertPlanLines(january, [
      [/^Plan Basic \(Jan 5 – Jan (19|20), 2026, prorated\)$/, 1451],
      [/^Plan Pro \(Jan 27 – Jan 31, 2026, prorated\)$/, 806],
    ]);
    assert.equal(january.total_in_cents, 2257);

    // One trial ever: back to BASIC, then to PRO again, and PRO is charged from the change.
    app.clock.set(new Date('2026-02-10T12:00:00Z'));
    await changePlan(app, org, 'BASIC');
    app.clock.set(new Date('2026-02-15T12:00:00Z'));
    await changePlan(app, org, 'PRO');
    assert.deepEqual(await costSoFar(app, org), { total: 1696 + 536, trialDays: 0 });
    app.clock.set(new Date('2026-03-01T00:00:05Z'));
    await runBilling(app, '2026-03-01T00:00:00Z');
    const february = await invoiceFor(app, org, '2026-02-01T00:00:00.000Z');
    assertPlanLines(february, [
      [/^Plan Pro \(Feb 1 – Feb 10, 2026, prorated\)$/, 1696],
      [/^Plan Basic \(Feb 10 – Feb 15, 2026, prorated\)$/, 536],
      [/^Plan Pro \(Feb 15 – Feb 28, 2026, prorated\)$/, 2410],
    ]);
  });
});

describe('a trial started on the last day of a month', () => {
  let app: TestApp;
  before(async () => {
    app = await startTestApp();
  });
  after(() => app.close());

  it('frees that day only, not the whole month', async () => {
    app.clock.set(new Date('2026-01-01T00:00:00Z'));
    await putPlan(app, 'BASIC', { monthly: 2999, kind: 'invoiced', name: 'Basic' });
    await putPlan(app, 'PRO', { monthly: 4999, kind: 'invoiced', trialDays: 7, name: 'Pro' });
    const org = await createBillingOrganization(app, { name: 'Last day' });
    await setBillingInfo(app, org, acmeBillingInfo);
    await changePlan(app, org, 'BASIC');

    app.clock.set(new Date('2026-01-31T00:00:00Z'));
    await changePlan(app, org, 'PRO');
    app.clock.set(new Date('2026-01-31T12:00:00Z'));
    // 30 of 31 days on BASIC; the last day is the trial's.
    assert.deepEqual(await costSoFar(app, org), { total: 2902, trialDays: 7 });

    app.clock.set(new Date('2026-02-01T00:00:05Z'));
    await runBilling(app, '2026-02-01T00:00:00Z');
    const january = await invoiceFor(app, org, '2026-01-01T00:00:00.000Z');
    assertPlanLines(january, [[/^Plan Basic \(Jan 1 – Jan (30|31), 2026, prorated\)$/, 2902]]);

    // The trial ends on February 7: PRO is charged for the 22 days after it.
    app.clock.set(new Date('2026-03-01T00:00:05Z'));
    await runBilling(app, '2026-03-01T00:00:00Z');
    const february = await invoiceFor(app, org, '2026-02-01T00:00:00.000Z');
    assertPlanLines(february, [[/^Plan Pro \(Feb 7 – Feb 28, 2026, prorated\)$/, 3928]]);
  });
});
