/**
 * Closes the billing period of a batch of organizations in ONE transaction: a billing run's unit of work.
 *
 * Order inside the transaction, chosen so that the gap-free number counter (one row every issuer updates) is held
 * as briefly as possible and concurrent batches overlap everything else:
 *   1. the batch reader: the per-organization invoicing locks, then each table read once for the whole batch;
 *   2. each invoice composed in memory, errors caught per organization (that organization is left out, whole);
 *   3. the credit locks and balances of the organizations (credits pay every invoice first), the default cards of
 *      credits plans, then the follow-up jobs and the late usage the invoices bill (marked billed);
 *   4. last, the invoice writer's ONE statement: numbers for the whole batch from the counter, invoices, lines,
 *      credit use, audit events; then the commit. A rollback gives every number back.
 * When the batch transaction fails anyway (a constraint, a deadlock), it is retried in halves down to single
 * organizations, so one organization never blocks the others.
 */
import { randomUUID } from 'node:crypto';
import type { AppContext } from '../../app-context.js';
import type { Queryable } from '../../db/database.js';
import type { Caller } from '../../domain/actor.js';
import type { BillingPeriod } from '../../domain/billing-period.js';
import { clusterLineParts, nodeHoursQuantity } from '../../domain/invoice-line-parts.js';
import { composeInvoice } from '../../domain/invoice-math.js';
import { statusAtIssue, type InvoiceStatus } from '../../domain/invoice-status.js';
import type { PlanFeeLine } from '../../domain/proration.js';
import { clusterPeriodInput, type ClusterPeriodCharge } from '../costs/cluster-charges.js';
import { markLateUsageBilled, type LateUsageCharge } from '../costs/late-usage.js';
import { getCreditBalances, lockCreditBalances } from '../credits/credit-balance.js';
import { invoiceTaxDecision } from '../tax/invoice-tax.js';
import { sellerTaxIdentity, type SellerTaxIdentity } from '../tax/seller-tax-identity.js';
import { listTaxRates } from '../tax/tax-rate.js';
import type { TaxRate } from '../../domain/tax.js';
import { organizationsWithDefaultCard } from '../payment-methods/credit-card.js';
import { loadSeller } from '../seller/seller.js';
import { billToSnapshot, sellerSnapshot } from './bill-to-snapshot.js';
import { chargeInvoiceJob } from './charge-invoice.js';
import { readInvoicingBatch, type OrganizationToInvoice } from './read-invoicing-batch.js';
import { invoiceEmailJob } from './send-invoice-email.js';
import { writeInvoices, type InvoiceToWrite } from './write-invoices.js';
import { announceBillingStatus } from '../status/billing-status-announcements.js';

/** What happened to one organization of the batch; `failed` left it without invoice (a rerun retries it). */
export type OrganizationInvoiceOutcome =
  | { outcome: 'created'; invoiceId: string; number: string; status: InvoiceStatus; totalMinor: bigint; depletesCredits?: boolean }
  /** The organization already has its invoice for this period (a rerun, or another worker got there first). */
  | { outcome: 'exists' }
  /** Nothing was charged in the period (free plan, trial, no usage): no invoice is issued. */
  | { outcome: 'nothing_to_bill' }
  | { outcome: 'failed'; error: unknown };

/** Raised inside the transaction to roll it back (and give the numbers back) when an invoice turned out to exist. */
class InvoiceAlreadyIssued extends Error {}

function nodes(count: number): string {
  return count === 1 ? '1 node' : `${count} nodes`;
}

/**
 * The quantity column holds the node-hours at the hourly price; the description says what they are and any clamping,
 * and the parts (fixed part, usage, cap or minimum) show how the amount is made when it is more than usage alone.
 */
function usageLine(item: ClusterPeriodCharge, period: BillingPeriod) {
  const { cluster, charge } = item;
  const bound = charge.cappedAtMax
    ? `, capped at its maximum of ${nodes(cluster.pricing.maxNodes)}`
    : charge.raisedToMin
      ? `, its minimum of ${nodes(cluster.pricing.minNodes)}`
      : '';
  return {
    description: `Cluster ${cluster.name} (node-hours${bound})`,
    quantity: nodeHoursQuantity(item.usedNodeHours),
    unitPriceMinor: cluster.pricing.hourlyPricePerNodeMinor,
    parts: clusterLineParts({ ...clusterPeriodInput(cluster, period), usedNodeHours: item.usedNodeHours }, charge),
    amountMinor: charge.amountMinor,
  };
}

/** A plan line: the share of the period on the plan at its monthly price. */
function planLine(line: PlanFeeLine) {
  return { description: line.description, quantity: line.quantity, unitPriceMinor: line.monthlyPriceMinor, amountMinor: line.amountMinor };
}

const monthName = new Intl.DateTimeFormat('en-US', { timeZone: 'UTC', month: 'long', year: 'numeric' });

/** A late usage line names the period the usage belongs to; its quantity is the late node-hours. */
function lateUsageLine(item: LateUsageCharge): { description: string; quantity: string; amountMinor: bigint } {
  const bound = item.cappedAtMax ? `, capped at its maximum for ${monthName.format(item.period.start)}` : '';
  return {
    description: `Late usage of ${monthName.format(item.period.start)}: cluster ${item.cluster.name} (node-hours${bound})`,
    quantity: nodeHoursQuantity(item.lateNodeHours),
    amountMinor: item.amountMinor,
  };
}

/** An organization with something to bill, before credits and numbering. */
interface InvoiceDraft {
  organization: OrganizationToInvoice;
  planLines: PlanFeeLine[];
  billedClusters: ClusterPeriodCharge[];
  billedLateUsage: LateUsageCharge[];
}

/** The draft of an organization, or null when nothing was charged; throws what makes its invoice impossible. */
function draftOf(organization: OrganizationToInvoice): InvoiceDraft | null {
  for (const { cluster } of [...organization.clusterCharges, ...organization.lateUsageCharges]) {
    if (cluster.pricing.currency !== organization.currency) {
      const currencies = `priced in ${cluster.pricing.currency}, the organization is billed in ${organization.currency}`;
      throw new Error(`cluster ${cluster.id} is ${currencies}`);
    }
  }
  const planLines = organization.planLines.filter((line) => line.amountMinor !== 0n);
  const billedClusters = organization.clusterCharges.filter((item) => item.charge.amountMinor !== 0n);
  const billedLateUsage = organization.lateUsageCharges.filter((item) => item.amountMinor !== 0n);
  if (planLines.length === 0 && billedClusters.length === 0 && billedLateUsage.length === 0) return null;
  return { organization, planLines, billedClusters, billedLateUsage };
}

/** What the tax rule needs besides the organization: read once per batch. */
interface TaxSetting {
  seller: SellerTaxIdentity;
  rates: TaxRate[];
}

/**
 * The credit balance pays first, whatever the plan (after tax: credits are a payment); what is left goes to the card
 * for an invoiced plan, and for a credits plan only when it has a default card (otherwise it is owed).
 */
function invoiceOf(
  draft: InvoiceDraft,
  creditBalance: bigint,
  hasDefaultCard: boolean,
  period: BillingPeriod,
  taxSetting: TaxSetting,
): InvoiceToWrite {
  const { organization, planLines, billedClusters, billedLateUsage } = draft;
  const { currency, plan } = organization;
  const tax = invoiceTaxDecision(taxSetting.seller, organization.billTo, taxSetting.rates);
  const composed = composeInvoice({
    currency,
    planLines: planLines.map(planLine),
    usageLines: [...billedClusters.map((item) => usageLine(item, period)), ...billedLateUsage.map(lateUsageLine)],
    availableCreditMinor: creditBalance,
    applyCredits: true,
    taxRates: tax.kind === 'rates' ? tax.rates : [],
  });
  return {
    invoiceId: randomUUID(),
    organizationId: organization.id,
    plan,
    currency,
    status: statusAtIssue(composed.totalMinor, plan.kind === 'invoiced' || hasDefaultCard),
    composed,
    clusterIds: [...billedClusters, ...billedLateUsage].map((item) => item.cluster.id),
    billTo: billToSnapshot(organization.billTo),
    reverseCharge: tax.kind === 'reverse_charge',
  };
}

/**
 * Every invoice pays from the balance first. Most organizations have no credit: one read finds those with some, and
 * only those are locked (in id order) and read again under the lock, so that a balance is spent at most once.
 * (Credit redeemed while this runs, after that read, is simply left for the next invoice.)
 */
async function creditBalancesOf(tx: Queryable, drafts: readonly InvoiceDraft[]): Promise<Map<string, bigint>> {
  const accounts = drafts.map(({ organization }) => ({ organizationId: organization.id, currency: organization.currency }));
  if (accounts.length === 0) return new Map();
  const seen = await getCreditBalances(tx, accounts);
  const withCredit = accounts.filter((account) => (seen.get(account.organizationId) ?? 0n) > 0n);
  if (withCredit.length === 0) return new Map();
  await lockCreditBalances(tx, withCredit.map((account) => account.organizationId));
  return getCreditBalances(tx, withCredit);
}

/** After the commit, an invoiced plan's invoice is charged (attempt 1); any other invoice is e-mailed. */
function followUpJob(invoice: InvoiceToWrite) {
  const { organizationId, invoiceId } = invoice;
  return invoice.status === 'PENDING'
    ? chargeInvoiceJob({ organizationId, invoiceId, attempt: 1 })
    : invoiceEmailJob({ organizationId, invoiceId, kind: 'issued' });
}

/**
 * Issues the invoice of each organization of `organizationIds` for `period`, in one transaction (see the top of
 * this file). Never throws for one organization's problem: its outcome is `failed` with the error.
 */
export async function issueInvoices(
  context: AppContext,
  caller: Caller,
  organizationIds: readonly string[],
  period: BillingPeriod,
): Promise<Map<string, OrganizationInvoiceOutcome>> {
  // Sorted (byte order, as the locks): the numbers of a batch follow the organizations' ids.
  const ids = [...new Set(organizationIds)].sort();
  if (ids.length === 0) return new Map();
  try {
    const outcomes = await context.database.transaction((tx) => issueInvoicesInTransaction(context, caller, tx, ids, period));
    // An invoice that used the last credits ends the organization's valid billing (credits plans).
    const depleted = [...outcomes].filter(([, result]) => result.outcome === 'created' && result.depletesCredits).map(([id]) => id);
    if (depleted.length > 0) await announceBillingStatus(context, depleted);
    return outcomes;
  } catch (error) {
    if (ids.length === 1) {
      return new Map([[ids[0]!, error instanceof InvoiceAlreadyIssued ? { outcome: 'exists' } : { outcome: 'failed', error }]]);
    }
    if (!(error instanceof InvoiceAlreadyIssued)) {
      context.logger.warn({ err: error, organizations: ids.length }, 'invoice batch failed; retrying its organizations in smaller batches');
    }
    const middle = Math.ceil(ids.length / 2);
    const first = await issueInvoices(context, caller, ids.slice(0, middle), period);
    const second = await issueInvoices(context, caller, ids.slice(middle), period);
    return new Map([...first, ...second]);
  }
}

async function issueInvoicesInTransaction(
  context: AppContext,
  caller: Caller,
  tx: Queryable,
  ids: readonly string[],
  period: BillingPeriod,
): Promise<Map<string, OrganizationInvoiceOutcome>> {
  const outcomes = new Map<string, OrganizationInvoiceOutcome>();
  const organizations = await readInvoicingBatch(tx, ids, period);
  const drafts: InvoiceDraft[] = [];
  for (const organizationId of ids) {
    const organization = organizations.get(organizationId);
    if (organization === undefined) {
      outcomes.set(organizationId, { outcome: 'failed', error: new Error(`organization ${organizationId} not found`) });
    } else if (organization.invoiced) {
      outcomes.set(organizationId, { outcome: 'exists' });
    } else {
      try {
        const draft = draftOf(organization);
        if (draft === null) outcomes.set(organizationId, { outcome: 'nothing_to_bill' });
        else drafts.push(draft);
      } catch (error) {
        outcomes.set(organizationId, { outcome: 'failed', error });
      }
    }
  }
  if (drafts.length === 0) return outcomes;

  const balances = await creditBalancesOf(tx, drafts);
  const creditsPlans = drafts.filter((draft) => draft.organization.plan.kind === 'credits').map((draft) => draft.organization.id);
  const withDefaultCard = await organizationsWithDefaultCard(tx, creditsPlans);
  // The seller and the tax rates once per batch: frozen into each invoice, and what the tax rule decides with.
  const seller = await loadSeller(tx);
  const taxSetting: TaxSetting = { seller: sellerTaxIdentity(seller), rates: await listTaxRates(tx) };
  const invoices: InvoiceToWrite[] = [];
  for (const draft of drafts) {
    try {
      const { id } = draft.organization;
      const balance = balances.get(id) ?? 0n;
      const invoice = invoiceOf(draft, balance, withDefaultCard.has(id), period, taxSetting);
      const creditsApplied = invoice.composed.creditsAppliedMinor;
      invoice.depletesCredits = creditsApplied > 0n && balance - creditsApplied <= 0n;
      invoices.push(invoice);
    } catch (error) {
      outcomes.set(draft.organization.id, { outcome: 'failed', error });
    }
  }
  if (invoices.length === 0) return outcomes;

  // The jobs before the numbers: from the counter update on, every statement holds the counter row.
  await context.jobs.enqueueMany(tx, invoices.map(followUpJob));
  const withLateUsage = new Set(drafts.filter((draft) => draft.organization.lateUsageCharges.length > 0).map((draft) => draft.organization.id));
  await markLateUsageBilled(tx, invoices.filter((invoice) => withLateUsage.has(invoice.organizationId)), period);
  const issuer = { seller: sellerSnapshot(seller), numberPrefix: seller.invoiceNumberPrefix };
  const numbers = await writeInvoices(tx, caller, period, issuer, invoices, context.clock.now());
  for (const invoice of invoices) {
    const number = numbers.get(invoice.invoiceId);
    if (number === undefined) throw new InvoiceAlreadyIssued();
    outcomes.set(invoice.organizationId, {
      outcome: 'created',
      invoiceId: invoice.invoiceId,
      number,
      status: invoice.status,
      totalMinor: invoice.composed.totalMinor,
      depletesCredits: invoice.depletesCredits ?? false,
    });
  }
  return outcomes;
}
