/**
 * Scenario: credit notes with the test clock, through the real Stripe SDK against the stand-in. A French seller's
 * invoice to a French consumer (20 % VAT) is paid by card, then voided: a credit note CN-000001 credits it whole, tax
 * included, and refunds the card at the provider. A credits-plan invoice paid from credits gets a partial credit
 * note: its credits come back to the balance. An unpaid invoice's partial credit note lowers what is owed.
 */
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { startStripeStandIn, type StripeStandIn } from '../fixtures/stripe-stand-in.js';
import { auditEvents, http, startTestApp, type OrganizationFixture, type TestApp } from '../support/test-app.js';
import { assertContainsAll, createBillingOrganization, getInvoice, listInvoices, pdfText, putPlan, runBilling, runJobs, setBillingInfo } from './invoice-fixtures.js';

let standIn: StripeStandIn;
let app: TestApp;

before(async () => {
  standIn = await startStripeStandIn();
  app = await startTestApp({
    PAYMENT_PROVIDER: 'stripe',
    STRIPE_SECRET_KEY: 'sk_test_x',
    STRIPE_API_BASE_URL: standIn.url,
    BURSAR_SELLER_NAME: 'Bursar SAS',
    BURSAR_SELLER_COUNTRY: 'FR',
    BURSAR_SELLER_TAX_ID: 'FR40303265045',
  });
});
after(async () => {
  await app.close();
  await standIn.close();
});

const frenchConsumer = {
  first_name: 'Camille',
  last_name: 'Durand',
  email: 'camille@example.test',
  address: '3 rue Nationale',
  city: 'Lille',
  zip: '59000',
  country_code: 'FR',
};

async function creditNotes(org: OrganizationFixture): Promise<any[]> {
  const result = await http(app, 'GET', `/organization/${org.id}/creditNotes`, { headers: org.billing });
  assert.equal(result.status, 200, result.text);
  return result.body.results;
}

async function creditNotePdfText(org: OrganizationFixture, creditNoteId: string): Promise<string> {
  const link = await http(app, 'GET', `/organization/${org.id}/creditNotes/${creditNoteId}/download`, { headers: org.billing });
  assert.equal(link.status, 200, link.text);
  const response = await fetch(link.body.url);
  assert.equal(response.status, 200);
  assert.equal(response.headers.get('content-type'), 'application/pdf');
  return (await pdfText(Buffer.from(await response.arrayBuffer()))).replace(/\s+/g, ' ');
}

async function balance(org: OrganizationFixture): Promise<number> {
  const result = await http(app, 'GET', `/organization/${org.id}/credits`, { headers: org.owner });
  assert.equal(result.status, 200, result.text);
  return result.body.balance_in_cents;
}

let paidByCard: OrganizationFixture;
let paidByCredits: OrganizationFixture;
let unpaid: OrganizationFixture;

it('issues the month: a card-paid invoice, a credits-paid invoice and an unpaid one, each with French VAT', async () => {
  app.clock.set(new Date('2026-04-01T00:00:00Z'));
  await putPlan(app, 'PRO_CARD', { monthly: 10_000, kind: 'invoiced', currency: 'EUR', name: 'Pro' });
  await putPlan(app, 'PRO_CREDITS', { monthly: 10_000, kind: 'credits', currency: 'EUR', name: 'Pro credits' });
  const rate = await http(app, 'PUT', '/admin/tax-rates/fr-vat', { headers: app.admin, body: { country: 'FR', percentage: '20', name: 'TVA' } });
  assert.equal(rate.status, 201, rate.text);
  const code = await http(app, 'POST', '/admin/credit-codes', { headers: app.admin, body: { code: 'PREPAID200', amount_in_cents: 20_000, currency: 'EUR' } });
  assert.equal(code.status, 201, code.text);

  paidByCard = await createBillingOrganization(app, { name: 'Card payer', plan: 'PRO_CARD' });
  await setBillingInfo(app, paidByCard, frenchConsumer);
  const card = await http(app, 'POST', `/organization/${paidByCard.id}/creditCard`, {
    headers: paidByCard.owner,
    body: { number: '4242424242424242', cvv: '123', expiry_month: 12, expiry_year: 2030 },
  });
  assert.equal(card.status, 201, card.text);

  paidByCredits = await createBillingOrganization(app, { name: 'Credits payer', plan: 'PRO_CREDITS' });
  await setBillingInfo(app, paidByCredits, frenchConsumer);
  const redeemed = await http(app, 'POST', `/organization/${paidByCredits.id}/creditCode`, { headers: paidByCredits.owner, body: { code: 'PREPAID200' } });
  assert.equal(redeemed.status, 200, redeemed.text);

  unpaid = await createBillingOrganization(app, { name: 'No card', plan: 'PRO_CARD' });
  await setBillingInfo(app, unpaid, frenchConsumer);

  app.clock.set(new Date('2026-05-01T00:05:00Z'));
  const run = await runBilling(app, '2026-05-01T00:00:00Z');
  assert.equal(run.invoices_created, 3, JSON.stringify(run));
  await runJobs(app);

  const [cardInvoice] = await listInvoices(app, paidByCard);
  assert.equal(cardInvoice.status, 'PAID');
  assert.equal(cardInvoice.total_in_cents, 12_000);
  const [creditsInvoice] = await listInvoices(app, paidByCredits);
  assert.equal(creditsInvoice.status, 'PAID');
  assert.equal(creditsInvoice.credits_applied_in_cents, 12_000, 'credits pay the price with its tax');
  assert.equal(await balance(paidByCredits), 8_000);
  const [unpaidInvoice] = await listInvoices(app, unpaid);
  assert.notEqual(unpaidInvoice.status, 'PAID');
});

it('voiding a paid invoice issues a credit note for its whole amount and refunds the card at the provider', async () => {
  const [invoice] = await listInvoices(app, paidByCard);
  const voided = await http(app, 'POST', `/admin/invoices/${invoice.id}/void`, { headers: app.admin });
  assert.equal(voided.status, 200, voided.text);
  assert.equal(voided.body.status, 'VOIDED');

  const [note] = await creditNotes(paidByCard);
  assert.equal(note.number, 'CN-000001');
  assert.equal(note.invoice_number, invoice.number);
  assert.equal(note.subtotal_in_cents, 10_000);
  assert.deepEqual(note.tax_lines, [{ name: 'TVA', percentage: '20', taxable_in_cents: 10_000, tax_in_cents: 2_000 }]);
  assert.equal(note.total_in_cents, 12_000);
  assert.equal(note.refunded_in_cents, 12_000);
  assert.equal(note.provider_refund_reference, null, 'the refund happens after the commit, by a job');

  await runJobs(app);
  const chargeReference = (await app.database.query<{ provider_charge_reference: string }>(
    'SELECT provider_charge_reference FROM invoices WHERE id = $1',
    [invoice.id],
  )).rows[0]!.provider_charge_reference;
  const refunds = [...standIn.refunds.values()].filter((refund) => refund['payment_intent'] === chargeReference);
  assert.deepEqual(refunds.map((refund) => refund['amount']), [12_000]);
  const refundRequest = standIn.requests.find((request) => request.path === '/v1/refunds');
  assert.equal(refundRequest?.idempotencyKey, `refund-credit-note-${note.id}`, "the provider's idempotency key is the credit note's");
  const [refunded] = await creditNotes(paidByCard);
  assert.equal(refunded.provider_refund_reference, refunds[0]!['id']);

  const types = (await auditEvents(app, paidByCard.id)).map((event) => event.type);
  for (const type of ['CREDIT_NOTE_ISSUE', 'CREDIT_NOTE_REFUND', 'INVOICE_STATUS_CHANGE']) assert.ok(types.includes(type), type);

  assertContainsAll(await creditNotePdfText(paidByCard, note.id), ['Credit note', 'CN-000001', invoice.number, 'FR40303265045', 'TVA 20% on 100.00 EUR', '20.00 EUR', '120.00 EUR']);
  // Voiding again changes nothing and issues nothing.
  assert.equal((await http(app, 'POST', `/admin/invoices/${invoice.id}/void`, { headers: app.admin })).status, 200);
  assert.equal((await creditNotes(paidByCard)).length, 1);
});

it('a partial credit note of an invoice paid with credits returns the credits, tax included', async () => {
  const [invoice] = await listInvoices(app, paidByCredits);
  const tooMuch = await http(app, 'POST', `/admin/invoices/${invoice.id}/credit-notes`, {
    headers: app.admin,
    body: { reason: 'Too much', amount_in_cents: 10_001 },
  });
  assert.equal(tooMuch.status, 409, tooMuch.text);
  assert.equal(tooMuch.body.error, 'credit_exceeds_invoice');
  const neither = await http(app, 'POST', `/admin/invoices/${invoice.id}/credit-notes`, { headers: app.admin, body: { reason: 'Nothing' } });
  assert.equal(neither.status, 400, neither.text);

  const partial = await http(app, 'POST', `/admin/invoices/${invoice.id}/credit-notes`, {
    headers: app.admin,
    body: { reason: 'Outage on April 12', lines: [{ description: 'Outage credit (2 days)', amount_in_cents: 5_000 }] },
  });
  assert.equal(partial.status, 201, partial.text);
  assert.equal(partial.body.number, 'CN-000002', 'the series is gap-free');
  assert.equal(partial.body.tax_in_cents, 1_000);
  assert.equal(partial.body.total_in_cents, 6_000);
  assert.equal(partial.body.credits_returned_in_cents, 6_000);
  assert.equal(partial.body.refunded_in_cents, 0);
  assert.equal(await balance(paidByCredits), 14_000);
  assert.equal((await getInvoice(app, paidByCredits, invoice.id)).status, 'PAID', 'the invoice stays as issued');
  assertContainsAll(await creditNotePdfText(paidByCredits, partial.body.id), ['CN-000002', 'Outage credit (2 days)', '60.00 EUR']);
});

it('a partial credit note of an unpaid invoice lowers what is owed', async () => {
  const [invoice] = await listInvoices(app, unpaid);
  const partial = await http(app, 'POST', `/admin/invoices/${invoice.id}/credit-notes`, {
    headers: app.admin,
    body: { reason: 'Goodwill', amount_in_cents: 2_500 },
  });
  assert.equal(partial.status, 201, partial.text);
  assert.equal(partial.body.owed_reduced_in_cents, 3_000);
  const status = await http(app, 'GET', `/organization/${unpaid.id}/billingStatus`, { headers: unpaid.owner });
  assert.equal(status.status, 200);
  // The rest is credited when the invoice is voided: nothing is owed any more.
  const voided = await http(app, 'POST', `/admin/invoices/${invoice.id}/void`, { headers: app.admin });
  assert.equal(voided.status, 200, voided.text);
  const notes = await creditNotes(unpaid);
  assert.deepEqual(notes.map((note) => [note.number, note.total_in_cents, note.owed_reduced_in_cents]), [
    ['CN-000004', 9_000, 9_000],
    ['CN-000003', 3_000, 3_000],
  ]);
});
