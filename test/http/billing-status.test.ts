import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { NO_CREDIT_CARD_MESSAGE, NO_CREDIT_MESSAGE } from '../../src/domain/billing-status.js';
import { http, startTestApp, type TestApp } from '../support/test-app.js';
import { createBillingOrganization } from './invoice-fixtures.js';

let app: TestApp;
before(async () => {
  app = await startTestApp();
  app.clock.set(new Date('2026-11-01T00:00:00Z'));
  const plan = await http(app, 'PUT', '/admin/plans/STARTUP', {
    headers: app.admin,
    body: { name: 'Startup', monthly_price_in_cents: 4900, currency: 'USD', kind: 'invoiced', trial_days: 0 },
  });
  assert.equal(plan.status, 201, plan.text);
});
after(async () => {
  await app.close();
});

/** The shared fixture whose tokens stay valid however far the test clock moves. */
const createOrganization = (values: { plan?: string } = {}) => createBillingOrganization(app, values);

async function billingStatus(org: { id: string; owner: Record<string, string> }) {
  const result = await http(app, 'GET', `/organization/${org.id}/billingStatus`, { headers: org.owner });
  assert.equal(result.status, 200, result.text);
  return result.body as { is_valid: boolean; message: string };
}

let invoiceSequence = 0;
/** Invoices are written by the invoicing capability; here they are set up directly. */
async function insertInvoice(organizationId: string, values: { status: string; issuedAt: string; totalMinor: bigint; periodStart: string }) {
  invoiceSequence += 1;
  const number = `TEST-${String(invoiceSequence).padStart(6, '0')}`;
  const periodStart = new Date(values.periodStart);
  const periodEnd = new Date(periodStart);
  periodEnd.setUTCMonth(periodEnd.getUTCMonth() + 1);
  await app.database.query(
    `INSERT INTO invoices (id, organization_id, number, sequence_number, period_start, period_end, plan_code, plan_kind, currency,
                           status, subtotal_minor, total_minor, bill_to, seller, issued_at, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, 'STARTUP', 'invoiced', 'USD', $7, $8, $8, '{}', '{}', $9, $9)`,
    [randomUUID(), organizationId, number, invoiceSequence, periodStart, periodEnd, values.status, values.totalMinor, new Date(values.issuedAt)],
  );
  return number;
}

async function grantCredit(organizationId: string, amountMinor: bigint) {
  await app.database.query(
    `INSERT INTO credit_ledger_entries (id, organization_id, amount_minor, currency, reason, description, created_at)
     VALUES ($1, $2, $3, 'USD', 'adjustment', 'test', $4)`,
    [randomUUID(), organizationId, amountMinor, new Date('2026-11-01T00:00:00Z')],
  );
}

describe('GET /organization/{id}/billingStatus', () => {
  test('invoiced plan: valid up to 7 days after an unpaid invoice was issued, invalid after, valid again once paid', async () => {
    app.clock.set(new Date('2026-11-01T00:00:00Z'));
    const org = await createOrganization({ plan: 'STARTUP' });
    assert.deepEqual(await billingStatus(org), { is_valid: true, message: `Billing is in good standing. ${NO_CREDIT_CARD_MESSAGE}`, reason: 'NO_CREDIT_CARD' });

    const number = await insertInvoice(org.id, { status: 'NOT_PAID', issuedAt: '2026-12-01T00:00:00Z', totalMinor: 4900n, periodStart: '2026-11-01T00:00:00Z' });
    app.clock.set(new Date('2026-12-07T23:59:00Z'));
    assert.equal((await billingStatus(org)).is_valid, true);

    app.clock.set(new Date('2026-12-08T00:01:00Z'));
    const overdue = await billingStatus(org);
    assert.equal(overdue.is_valid, false);
    assert.equal(overdue.message, `Invoice ${number} of $49.00 has been unpaid since Dec 1, 2026. Pay it or update your credit card to keep deploying.`);

    await app.database.query("UPDATE invoices SET status = 'PAID', paid_at = $2 WHERE organization_id = $1", [org.id, new Date('2026-12-08T00:00:00Z')]);
    assert.equal((await billingStatus(org)).is_valid, true);
  });

  test('invoiced plan: PAYMENT_DUE counts as unpaid and the message names the oldest overdue invoice; credits do not help', async () => {
    const org = await createOrganization({ plan: 'STARTUP' });
    await grantCredit(org.id, 100_000n);
    await insertInvoice(org.id, { status: 'VOIDED', issuedAt: '2026-08-01T00:00:00Z', totalMinor: 100n, periodStart: '2026-07-01T00:00:00Z' });
    const oldest = await insertInvoice(org.id, { status: 'PAYMENT_DUE', issuedAt: '2026-09-01T00:00:00Z', totalMinor: 123456n, periodStart: '2026-08-01T00:00:00Z' });
    await insertInvoice(org.id, { status: 'NOT_PAID', issuedAt: '2026-10-01T00:00:00Z', totalMinor: 4900n, periodStart: '2026-09-01T00:00:00Z' });
    app.clock.set(new Date('2026-10-20T00:00:00Z'));
    const status = await billingStatus(org);
    assert.equal(status.is_valid, false);
    assert.match(status.message, new RegExp(`^Invoice ${oldest} of \\$1,234\\.56 has been unpaid since Sep 1, 2026\\.`));
  });

  test('credits plan: invalid without credit, valid with a positive balance, invalid once it is used up; an overdue invoice counts', async () => {
    app.clock.set(new Date('2026-11-01T00:00:00Z'));
    const org = await createOrganization();
    assert.deepEqual(await billingStatus(org), { is_valid: false, message: NO_CREDIT_MESSAGE, reason: 'NO_CREDIT_LEFT' });

    await grantCredit(org.id, 2500n);
    assert.deepEqual(await billingStatus(org), { is_valid: true, message: 'Billing is in good standing. Remaining credit: $25.00.', reason: null });
    // Issue 8: an unpaid credits-plan invoice counts like any unpaid invoice.
    await insertInvoice(org.id, { status: 'NOT_PAID', issuedAt: '2026-09-01T00:00:00Z', totalMinor: 4900n, periodStart: '2026-08-01T00:00:00Z' });
    const overdue = await billingStatus(org);
    assert.equal(overdue.is_valid, false);
    assert.match(overdue.message, /has been unpaid since Sep 1, 2026/);

    await grantCredit(org.id, -2500n);
    assert.deepEqual(await billingStatus(org), { is_valid: false, message: NO_CREDIT_MESSAGE, reason: 'NO_CREDIT_LEFT' });
  });

  test('moving from credits to invoiced changes the rule that applies', async () => {
    app.clock.set(new Date('2026-11-01T00:00:00Z'));
    const org = await createOrganization();
    assert.equal((await billingStatus(org)).is_valid, false);
    const info = await http(app, 'PUT', `/organization/${org.id}/billingInfo`, {
      headers: org.owner,
      body: { first_name: 'Ada', last_name: 'Lovelace', email: 'ada@example.com', address: '1 Analytical Way', city: 'London', zip: 'N1 9GU', country_code: 'GB' },
    });
    assert.equal(info.status, 200, info.text);
    assert.equal((await http(app, 'POST', `/organization/${org.id}/changePlan`, { headers: org.owner, body: { plan: 'STARTUP' } })).status, 200);
    assert.deepEqual(await billingStatus(org), { is_valid: true, message: `Billing is in good standing. ${NO_CREDIT_CARD_MESSAGE}`, reason: 'NO_CREDIT_CARD' });
  });

  test('a plain member 403, a non-member 404, no credentials 401', async () => {
    const org = await createOrganization();
    const other = await createOrganization();
    assert.equal((await http(app, 'GET', `/organization/${org.id}/billingStatus`, { headers: org.member })).status, 403);
    assert.equal((await http(app, 'GET', `/organization/${org.id}/billingStatus`, { headers: other.owner })).status, 404);
    assert.equal((await http(app, 'GET', `/organization/${randomUUID()}/billingStatus`, { headers: org.owner })).status, 404);
    assert.equal((await http(app, 'GET', `/organization/${org.id}/billingStatus`)).status, 401);
    assert.equal((await http(app, 'GET', `/organization/${org.id}/billingStatus`, { headers: org.billing })).status, 200);
  });
});
