/**
 * Closes the billing period of a batch of organizations in ONE transaction: a billing run's unit of work.
 *
 * Order inside the transaction, chosen so that the gap-free number counter (one row every issuer updates) is held
 * as briefly as possible and concurrent batches overlap everything else:
 *   1. the per-organization invoicing locks, in id order (no deadlock between batches, reruns, concurrent runs);
 *   2. the reads, one query per kind for the whole batch, through the same loaders as the live cost;
 *   3. each invoice composed in memory, errors caught per organization (that organization is left out, whole);
 *   4. the credit locks and balances of the credits-plan organizations, the bill-to profiles, the follow-up jobs;
 *   5. last, ONE statement: numbers for the whole batch from the counter, invoices, lines, credit use, audit events;
 *      then the commit. A rollback gives every number back.
 * When the batch transaction fails anyway (a constraint, a deadlock), it is retried in halves down to single
 * organizations, so one organization never blocks the others.
 */
import { randomUUID } from 'node:crypto';
import type { AppContext } from '../../app-context.js';
import type { Queryable } from '../../db/database.js';
import { addDays, type BillingPeriod } from '../../domain/billing-period.js';
import { UNPAID_INVOICE_GRACE_DAYS } from '../../domain/billing-status.js';
import { composeInvoice, type ComposedInvoice, type InvoiceLine } from '../../domain/invoice-math.js';
import type { JobQueue } from '../../jobs/job-queue.js';
import { chargeInvoiceQueue, invoiceEmailQueue } from '../../jobs/queues.js';
import { actorId, type Caller } from '../../domain/actor.js';
import { loadClusterChargesForOrganizations, type ClusterPeriodCharge } from '../costs/cluster-charges.js';
import { getCreditBalances, lockCreditBalances } from '../credits/credit-balance.js';
import { loadPlanFeeLinesForOrganizations } from '../plans/plan-fee-lines.js';
import type { PlanKind } from '../plans/plan.js';
import { loadBillingProfiles } from '../profile/billing-profile.js';
import { billToSnapshot, sellerSnapshot } from './bill-to-snapshot.js';
import type { InvoiceStatus } from './invoice.js';
import type { ChargeInvoicePayload, InvoiceEmailPayload, IssueInvoiceOutcome } from './issue-invoice.js';

export const INVOICE_ISSUE = 'INVOICE_ISSUE';

/** What happened to one organization of the batch; `failed` left it without invoice (a rerun retries it). */
export type OrganizationInvoiceOutcome = IssueInvoiceOutcome | { outcome: 'failed'; error: unknown };

/** Raised inside the transaction to roll it back (and give the numbers back) when an invoice turned out to exist. */
class InvoiceAlreadyIssued extends Error {}

/**
 * The invoicing lock of each organization, taken in one fixed order (the ids' bytes): billing runs, reruns and
 * concurrent workers take turns on an organization, and two batches with overlapping organizations never deadlock.
 */
export async function lockOrganizationsInvoicing(tx: Queryable, organizationIds: readonly string[]): Promise<void> {
  if (organizationIds.length === 0) return;
  await tx.query(
    `SELECT pg_advisory_xact_lock(hashtextextended('invoicing:' || id, 0))
       FROM (SELECT id FROM unnest($1::text[]) AS id ORDER BY id COLLATE "C" OFFSET 0) AS ordered`,
    [organizationIds],
  );
}

function nodes(count: number): string {
  return count === 1 ? '1 node' : `${count} nodes`;
}

/** The quantity column holds the node-hours; the description says what they are and any clamping. */
function usageLine(item: ClusterPeriodCharge): { description: string; quantity: string; amountMinor: bigint } {
  const { cluster, charge } = item;
  const bound = charge.cappedAtMax
    ? `, capped at its maximum of ${nodes(cluster.pricing.maxNodes)}`
    : charge.raisedToMin
      ? `, its minimum of ${nodes(cluster.pricing.minNodes)}`
      : '';
  return {
    description: `Cluster ${cluster.name} (node-hours${bound})`,
    quantity: item.usedNodeHours.toLocaleString('en-US'),
    amountMinor: charge.amountMinor,
  };
}

interface OrganizationToInvoice {
  currency: string;
  /** The plan at the end of the period decides how the invoice is paid (charged to the card, or from credits). */
  plan: { code: string; kind: PlanKind };
  /** It already has its invoice for the period. */
  invoiced: boolean;
}

async function organizationsToInvoice(
  tx: Queryable,
  organizationIds: readonly string[],
  period: BillingPeriod,
): Promise<Map<string, OrganizationToInvoice>> {
  const { rows } = await tx.query<{ id: string; currency: string; plan_code: string; plan_kind: PlanKind; invoiced: boolean }>(
    `SELECT o.id, o.currency, COALESCE(last.code, current.code) AS plan_code, COALESCE(last.kind, current.kind) AS plan_kind,
            EXISTS (SELECT 1 FROM invoices i WHERE i.organization_id = o.id AND i.period_start = $2) AS invoiced
       FROM organizations o
       JOIN plans current ON current.code = o.plan
       LEFT JOIN LATERAL (
         SELECT p.code, p.kind FROM plan_subscriptions s JOIN plans p ON p.code = s.plan_code
          WHERE s.organization_id = o.id AND s.started_at < $3 AND (s.ended_at IS NULL OR s.ended_at > $2)
          ORDER BY s.started_at DESC, s.id DESC LIMIT 1) last ON true
      WHERE o.id = ANY($1::uuid[])`,
    [organizationIds, period.start, period.end],
  );
  return new Map(
    rows.map((row) => [row.id, { currency: row.currency, plan: { code: row.plan_code, kind: row.plan_kind }, invoiced: row.invoiced }]),
  );
}

/** An organization with something to bill, before credits and numbering. */
interface InvoiceDraft {
  organizationId: string;
  organization: OrganizationToInvoice;
  planLines: Array<{ description: string; amountMinor: bigint }>;
  billedClusters: ClusterPeriodCharge[];
}

interface InvoiceToWrite {
  invoiceId: string;
  organizationId: string;
  plan: { code: string; kind: PlanKind };
  currency: string;
  status: InvoiceStatus;
  composed: ComposedInvoice;
  /** The cluster of each usage line, in order. */
  clusterIds: string[];
  billTo: string;
}

/**
 * Issues the invoice of each organization of `organizationIds` for `period`, in one transaction (see the top of
 * this file). Never throws for one organization's problem: its outcome is `failed` with the error.
 */
export async function issueInvoices(
  context: AppContext,
  request: Caller,
  organizationIds: readonly string[],
  period: BillingPeriod,
): Promise<Map<string, OrganizationInvoiceOutcome>> {
  // Sorted (byte order, as the locks): the numbers of a batch follow the organizations' ids.
  const ids = [...new Set(organizationIds)].sort();
  if (ids.length === 0) return new Map();
  try {
    return await context.database.transaction((tx) => issueInvoicesInTransaction(context, request, tx, ids, period));
  } catch (error) {
    if (ids.length === 1) {
      return new Map([[ids[0]!, error instanceof InvoiceAlreadyIssued ? { outcome: 'exists' } : { outcome: 'failed', error }]]);
    }
    if (!(error instanceof InvoiceAlreadyIssued)) {
      context.logger.warn({ err: error, organizations: ids.length }, 'invoice batch failed; retrying its organizations in smaller batches');
    }
    const middle = Math.ceil(ids.length / 2);
    const first = await issueInvoices(context, request, ids.slice(0, middle), period);
    const second = await issueInvoices(context, request, ids.slice(middle), period);
    return new Map([...first, ...second]);
  }
}

async function issueInvoicesInTransaction(
  context: AppContext,
  request: Caller,
  tx: Queryable,
  ids: readonly string[],
  period: BillingPeriod,
): Promise<Map<string, OrganizationInvoiceOutcome>> {
  const outcomes = new Map<string, OrganizationInvoiceOutcome>();
  await lockOrganizationsInvoicing(tx, ids);
  const organizations = await organizationsToInvoice(tx, ids, period);
  const toCompute: string[] = [];
  for (const organizationId of ids) {
    const organization = organizations.get(organizationId);
    if (organization === undefined) {
      outcomes.set(organizationId, { outcome: 'failed', error: new Error(`organization ${organizationId} not found`) });
    } else if (organization.invoiced) {
      outcomes.set(organizationId, { outcome: 'exists' });
    } else {
      toCompute.push(organizationId);
    }
  }
  if (toCompute.length === 0) return outcomes;

  // Sequential: a transaction's one connection takes one query at a time.
  const planLinesByOrganization = await loadPlanFeeLinesForOrganizations(tx, toCompute, period);
  const clusterChargesByOrganization = await loadClusterChargesForOrganizations(tx, toCompute, period);
  const drafts: InvoiceDraft[] = [];
  for (const organizationId of toCompute) {
    try {
      const organization = organizations.get(organizationId)!;
      const planLines = (planLinesByOrganization.get(organizationId) ?? []).filter((line) => line.amountMinor !== 0n);
      const clusterCharges = clusterChargesByOrganization.get(organizationId) ?? [];
      for (const { cluster } of clusterCharges) {
        if (cluster.pricing.currency !== organization.currency) {
          const currencies = `priced in ${cluster.pricing.currency}, the organization is billed in ${organization.currency}`;
          throw new Error(`cluster ${cluster.id} is ${currencies}`);
        }
      }
      const billedClusters = clusterCharges.filter((item) => item.charge.amountMinor !== 0n);
      if (planLines.length === 0 && billedClusters.length === 0) outcomes.set(organizationId, { outcome: 'nothing_to_bill' });
      else drafts.push({ organizationId, organization, planLines, billedClusters });
    } catch (error) {
      outcomes.set(organizationId, { outcome: 'failed', error });
    }
  }
  if (drafts.length === 0) return outcomes;

  // Credits plans pay from the balance: locked (in id order) before it is read, so it is spent at most once.
  const creditAccounts = drafts
    .filter((draft) => draft.organization.plan.kind === 'credits')
    .map((draft) => ({ organizationId: draft.organizationId, currency: draft.organization.currency }));
  await lockCreditBalances(tx, creditAccounts.map((account) => account.organizationId));
  const balances = creditAccounts.length > 0 ? await getCreditBalances(tx, creditAccounts) : new Map<string, bigint>();
  const profiles = await loadBillingProfiles(tx, drafts.map((draft) => draft.organizationId));

  const invoices: InvoiceToWrite[] = [];
  for (const { organizationId, organization, planLines, billedClusters } of drafts) {
    try {
      const { currency, plan } = organization;
      const applyCredits = plan.kind === 'credits';
      const composed = composeInvoice({
        currency,
        planLines,
        usageLines: billedClusters.map(usageLine),
        availableCreditMinor: applyCredits ? (balances.get(organizationId) ?? 0n) : 0n,
        applyCredits,
      });
      const profile = profiles.get(organizationId);
      if (profile === undefined) throw new Error(`organization ${organizationId} not found`);
      invoices.push({
        invoiceId: randomUUID(),
        organizationId,
        plan,
        currency,
        status: composed.totalMinor === 0n ? 'PAID' : plan.kind === 'invoiced' ? 'PENDING' : 'NOT_PAID',
        composed,
        clusterIds: billedClusters.map((item) => item.cluster.id),
        billTo: JSON.stringify(billToSnapshot(profile)),
      });
    } catch (error) {
      outcomes.set(organizationId, { outcome: 'failed', error });
    }
  }
  if (invoices.length === 0) return outcomes;

  const now = context.clock.now();
  // Before the numbers, since from the counter update on every statement holds the counter row: the row locks the
  // foreign keys of the rows below take on the organizations (so that a concurrent profile edit holding one makes
  // this batch wait here, not every batch at the counter), and the follow-up jobs.
  await tx.query('SELECT id FROM organizations WHERE id = ANY($1::uuid[]) ORDER BY id FOR KEY SHARE', [
    invoices.map((invoice) => invoice.organizationId),
  ]);
  await enqueueFollowUpJobs(context.jobs, tx, invoices);
  const numbers = await writeInvoices(tx, context, request, period, invoices, now);
  for (const invoice of invoices) {
    const number = numbers.get(invoice.invoiceId);
    if (number === undefined) throw new InvoiceAlreadyIssued();
    outcomes.set(invoice.organizationId, {
      outcome: 'created',
      invoiceId: invoice.invoiceId,
      number,
      status: invoice.status,
      totalMinor: invoice.composed.totalMinor,
    });
  }
  return outcomes;
}

/**
 * Per invoice, what `context.jobs.enqueue` would insert, as one multi-row INSERT: an invoiced plan's invoice is
 * charged (attempt 1), any other invoice is e-mailed. The workers run them after the commit.
 */
async function enqueueFollowUpJobs(jobQueue: JobQueue, tx: Queryable, invoices: readonly InvoiceToWrite[]): Promise<void> {
  const jobs = invoices.map((invoice) => {
    const { organizationId, invoiceId } = invoice;
    if (invoice.status === 'PENDING') {
      const payload: ChargeInvoicePayload = { organizationId, invoiceId, attempt: 1 };
      return { queue: chargeInvoiceQueue, payload, singletonKey: `invoice-charge:${invoiceId}:1`, maxAttempts: 5 };
    }
    const payload: InvoiceEmailPayload = { organizationId, invoiceId, kind: 'issued' };
    return { queue: invoiceEmailQueue, payload, singletonKey: `invoice-email:${invoiceId}:issued`, maxAttempts: 8 };
  });
  await jobQueue.enqueueMany(tx, jobs);
}

/** JSON of an audit event's changes: money (bigint) as strings of minor units, as `recordAuditEvent` writes them. */
function auditChangesJson(changes: Record<string, unknown>): string {
  return JSON.stringify(changes, (_key, value: unknown) => (typeof value === 'bigint' ? value.toString() : value));
}

/**
 * Takes the numbers of the whole batch from the counter and writes the invoices, their lines, the credits they use
 * and their audit events, in ONE statement right before the commit: the counter row stays locked until the commit,
 * so nothing else happens after it. Returns invoice id → number for the invoices written; one that already exists
 * is skipped (ON CONFLICT), and the caller then rolls back, which gives every number back.
 */
async function writeInvoices(
  tx: Queryable,
  context: AppContext,
  request: Caller,
  period: BillingPeriod,
  invoices: readonly InvoiceToWrite[],
  now: Date,
): Promise<Map<string, string>> {
  const lines: Array<InvoiceLine & { invoiceId: string; organizationId: string; position: number; clusterId: string | null }> = [];
  const credits: Array<{ id: string; invoiceId: string; amountMinor: bigint; currency: string }> = [];
  const audits: Array<{ id: string; invoiceId: string; changes: string }> = [];
  for (const invoice of invoices) {
    const { composed } = invoice;
    let usageIndex = 0;
    composed.lines.forEach((line, index) => {
      const clusterId = line.kind === 'usage' ? (invoice.clusterIds[usageIndex++] ?? null) : null;
      lines.push({ ...line, invoiceId: invoice.invoiceId, organizationId: invoice.organizationId, position: index + 1, clusterId });
    });
    if (composed.creditsAppliedMinor > 0n) {
      credits.push({ id: randomUUID(), invoiceId: invoice.invoiceId, amountMinor: -composed.creditsAppliedMinor, currency: invoice.currency });
    }
    // The statement adds invoiceNumber once the number is known.
    audits.push({
      id: randomUUID(),
      invoiceId: invoice.invoiceId,
      changes: auditChangesJson({
        invoiceId: invoice.invoiceId,
        periodStart: period.start.toISOString(),
        periodEnd: period.end.toISOString(),
        plan: invoice.plan.code,
        status: invoice.status,
        currency: invoice.currency,
        subtotalMinor: composed.subtotalMinor,
        creditsAppliedMinor: composed.creditsAppliedMinor,
        totalMinor: composed.totalMinor,
      }),
    });
  }

  // Array elements travel as text where they are bigint (the drivers convert top-level bigints only) or jsonb.
  const { rows } = await tx.query<{ id: string; number: string }>(
    `WITH counter AS (
       UPDATE invoice_number_counter SET last_number = last_number + $1::int8 WHERE singleton RETURNING last_number
     ), numbered AS (
       SELECT item.*, counter.last_number - $1::int8 + item.ordinality AS sequence_number
         FROM counter, unnest($7::uuid[], $8::uuid[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[], $14::text[],
                              $15::text[], $16::text[])
                WITH ORDINALITY AS item(id, organization_id, plan_code, plan_kind, currency, status, subtotal_minor, credits_applied_minor,
                                        total_minor, bill_to, ordinality)
     ), invoice AS (
       INSERT INTO invoices (id, organization_id, number, sequence_number, period_start, period_end, plan_code, plan_kind, currency,
                             status, subtotal_minor, credits_applied_minor, total_minor, bill_to, seller, issued_at, due_at,
                             paid_at, next_payment_attempt_at, created_at)
       SELECT id, organization_id, 'INV-' || repeat('0', greatest(0, 6 - length(sequence_number::text))) || sequence_number::text,
              sequence_number, $2::timestamptz, $3::timestamptz, plan_code, plan_kind, currency, status, subtotal_minor::int8,
              credits_applied_minor::int8, total_minor::int8, bill_to::jsonb, $6::jsonb, $4::timestamptz, $5::timestamptz,
              CASE WHEN status = 'PAID' THEN $4::timestamptz END, CASE WHEN status = 'PENDING' THEN $4::timestamptz END, $4::timestamptz
         FROM numbered
        ORDER BY sequence_number
       ON CONFLICT (organization_id, period_start) DO NOTHING
       RETURNING id, organization_id, number
     ), lines AS (
       INSERT INTO invoice_lines (invoice_id, position, organization_id, kind, description, quantity, amount_minor, cluster_id)
       SELECT line.invoice_id, line.position, line.organization_id, line.kind, line.description, line.quantity, line.amount_minor::int8,
              line.cluster_id
         FROM unnest($17::uuid[], $18::uuid[], $19::int[], $20::text[], $21::text[], $22::text[], $23::text[], $24::uuid[])
                AS line(invoice_id, organization_id, position, kind, description, quantity, amount_minor, cluster_id)
         JOIN invoice ON invoice.id = line.invoice_id
       RETURNING 1
     ), credit_use AS (
       INSERT INTO credit_ledger_entries (id, organization_id, amount_minor, currency, reason, reference, description, created_at)
       SELECT entry.id, invoice.organization_id, entry.amount_minor::int8, entry.currency, 'invoice', invoice.id::text,
              'Invoice ' || invoice.number, $4::timestamptz
         FROM unnest($25::uuid[], $26::uuid[], $27::text[], $28::text[]) AS entry(id, invoice_id, amount_minor, currency)
         JOIN invoice ON invoice.id = entry.invoice_id
       RETURNING 1
     ), audit AS (
       INSERT INTO audit_events (id, organization_id, type, actor_type, actor_id, surface, changes, request_id, created_at)
       SELECT event.id, invoice.organization_id, $29::text, $30::text, $31::text, $32::text,
              event.changes::jsonb || jsonb_build_object('invoiceNumber', invoice.number), $33::text, $4::timestamptz
         FROM unnest($34::uuid[], $35::uuid[], $36::text[]) AS event(id, invoice_id, changes)
         JOIN invoice ON invoice.id = event.invoice_id
       RETURNING 1
     )
     SELECT id, number FROM invoice`,
    [
      invoices.length,
      period.start,
      period.end,
      now,
      addDays(now, UNPAID_INVOICE_GRACE_DAYS),
      JSON.stringify(sellerSnapshot(context.config)),
      invoices.map((invoice) => invoice.invoiceId),
      invoices.map((invoice) => invoice.organizationId),
      invoices.map((invoice) => invoice.plan.code),
      invoices.map((invoice) => invoice.plan.kind),
      invoices.map((invoice) => invoice.currency),
      invoices.map((invoice) => invoice.status),
      invoices.map((invoice) => invoice.composed.subtotalMinor.toString()),
      invoices.map((invoice) => invoice.composed.creditsAppliedMinor.toString()),
      invoices.map((invoice) => invoice.composed.totalMinor.toString()),
      invoices.map((invoice) => invoice.billTo),
      lines.map((line) => line.invoiceId),
      lines.map((line) => line.organizationId),
      lines.map((line) => line.position),
      lines.map((line) => line.kind),
      lines.map((line) => line.description),
      lines.map((line) => line.quantity),
      lines.map((line) => line.amountMinor.toString()),
      lines.map((line) => line.clusterId),
      credits.map((credit) => credit.id),
      credits.map((credit) => credit.invoiceId),
      credits.map((credit) => credit.amountMinor.toString()),
      credits.map((credit) => credit.currency),
      INVOICE_ISSUE,
      request.actor.type,
      actorId(request.actor),
      request.surface,
      request.requestId,
      audits.map((audit) => audit.id),
      audits.map((audit) => audit.invoiceId),
      audits.map((audit) => audit.changes),
    ],
  );
  return new Map(rows.map((row) => [row.id, row.number]));
}
