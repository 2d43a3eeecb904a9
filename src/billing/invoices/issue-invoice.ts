/**
 * Closes one organization's billing period: its invoice, written whole in one transaction or not at all.
 */
import { randomUUID } from 'node:crypto';
import type { AppContext } from '../../app-context.js';
import { recordAuditEvent } from '../../audit/record-audit-event.js';
import type { Queryable } from '../../db/database.js';
import { addDays, type BillingPeriod } from '../../domain/billing-period.js';
import { UNPAID_INVOICE_GRACE_DAYS } from '../../domain/billing-status.js';
import { composeInvoice, type ComposedInvoice } from '../../domain/invoice-math.js';
import { chargeInvoiceQueue, invoiceEmailQueue } from '../../jobs/queues.js';
import type { RequestContext } from '../access/actor.js';
import { loadClusterCharges, type ClusterPeriodCharge } from '../costs/cluster-charges.js';
import { getCreditBalance, lockCreditBalance } from '../credits/credit-balance.js';
import { appendLedgerEntry } from '../credits/credit-ledger.js';
import { loadPlanFeeLines } from '../plans/plan-fee-lines.js';
import type { PlanKind } from '../plans/plan.js';
import { loadBillingProfile } from '../profile/billing-profile.js';
import { billToSnapshot, sellerSnapshot } from './bill-to-snapshot.js';
import type { BillToSnapshot, InvoiceStatus, SellerSnapshot } from './invoice.js';

export const INVOICE_ISSUE = 'INVOICE_ISSUE';

export type IssueInvoiceOutcome =
  | { outcome: 'created'; invoiceId: string; number: string; status: InvoiceStatus; totalMinor: bigint }
  /** The organization already has its invoice for this period (a rerun, or another worker got there first). */
  | { outcome: 'exists' }
  /** Nothing was charged in the period (free plan, trial, no usage): no invoice is issued. */
  | { outcome: 'nothing_to_bill' };

export interface ChargeInvoicePayload {
  organizationId: string;
  invoiceId: string;
  /** 1 for the attempt at issue, then 2, 3, … */
  attempt: number;
}

export type InvoiceEmailKind = 'issued' | 'paid' | 'payment_failed';

export interface InvoiceEmailPayload {
  organizationId: string;
  invoiceId: string;
  kind: InvoiceEmailKind;
  /** The failed attempt a payment_failed notice is about. */
  attempt?: number;
}

/** Raised inside the transaction to roll it back (and give the invoice number back) when the invoice exists. */
class InvoiceAlreadyIssued extends Error {}

/** One per organization: billing runs, reruns and concurrent workers take turns on an organization. */
export async function lockOrganizationInvoicing(tx: Queryable, organizationId: string): Promise<void> {
  await tx.query("SELECT pg_advisory_xact_lock(hashtextextended('invoicing:' || $1::text, 0))", [organizationId]);
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

async function organizationToInvoice(tx: Queryable, organizationId: string, period: BillingPeriod): Promise<OrganizationToInvoice> {
  const { rows } = await tx.query<{ currency: string; plan_code: string; plan_kind: PlanKind; invoiced: boolean }>(
    `SELECT o.currency, COALESCE(last.code, current.code) AS plan_code, COALESCE(last.kind, current.kind) AS plan_kind,
            EXISTS (SELECT 1 FROM invoices i WHERE i.organization_id = o.id AND i.period_start = $2) AS invoiced
       FROM organizations o
       JOIN plans current ON current.code = o.plan
       LEFT JOIN LATERAL (
         SELECT p.code, p.kind FROM plan_subscriptions s JOIN plans p ON p.code = s.plan_code
          WHERE s.organization_id = o.id AND s.started_at < $3 AND (s.ended_at IS NULL OR s.ended_at > $2)
          ORDER BY s.started_at DESC, s.id DESC LIMIT 1) last ON true
      WHERE o.id = $1`,
    [organizationId, period.start, period.end],
  );
  const row = rows[0];
  if (!row) throw new Error(`organization ${organizationId} not found`);
  return { currency: row.currency, plan: { code: row.plan_code, kind: row.plan_kind }, invoiced: row.invoiced };
}

/**
 * The invoice of `organizationId` for `period`: plan fee lines (prorated, none during the trial), one usage line per
 * cluster (clamped into the range that was shown), and for a credits plan the credits spent as one negative line,
 * with the matching ledger row. The number comes from the gap-free counter in the same transaction, so a rollback
 * gives it back. An invoiced plan's charge and the e-mails are queued, never done here.
 */
export async function issueInvoice(
  context: AppContext,
  request: RequestContext,
  organizationId: string,
  period: BillingPeriod,
): Promise<IssueInvoiceOutcome> {
  try {
    return await context.database.transaction(async (tx) => {
      await lockOrganizationInvoicing(tx, organizationId);
      const organization = await organizationToInvoice(tx, organizationId, period);
      if (organization.invoiced) return { outcome: 'exists' } as const;
      const { currency, plan } = organization;

      const planLines = (await loadPlanFeeLines(tx, organizationId, period)).filter((line) => line.amountMinor !== 0n);
      const clusterCharges = await loadClusterCharges(tx, organizationId, period);
      for (const { cluster } of clusterCharges) {
        if (cluster.pricing.currency !== currency) {
          throw new Error(`cluster ${cluster.id} is priced in ${cluster.pricing.currency}, the organization is billed in ${currency}`);
        }
      }
      const billedClusters = clusterCharges.filter((item) => item.charge.amountMinor !== 0n);
      if (planLines.length === 0 && billedClusters.length === 0) return { outcome: 'nothing_to_bill' } as const;

      const applyCredits = plan.kind === 'credits';
      let availableCreditMinor = 0n;
      if (applyCredits) {
        await lockCreditBalance(tx, organizationId);
        availableCreditMinor = await getCreditBalance(tx, organizationId, currency);
      }
      const composed = composeInvoice({ currency, planLines, usageLines: billedClusters.map(usageLine), availableCreditMinor, applyCredits });
      const profile = await loadBillingProfile(tx, organizationId);
      const now = context.clock.now();
      const status: InvoiceStatus = composed.totalMinor === 0n ? 'PAID' : plan.kind === 'invoiced' ? 'PENDING' : 'NOT_PAID';
      const invoiceId = randomUUID();

      // The follow-up job first: every write from the number on holds the counter row, so they are kept few.
      if (status === 'PENDING') {
        const payload: ChargeInvoicePayload = { organizationId, invoiceId, attempt: 1 };
        await context.jobs.enqueue(tx, chargeInvoiceQueue, payload, { singletonKey: `invoice-charge:${invoiceId}:1`, maxAttempts: 5 });
      } else {
        const payload: InvoiceEmailPayload = { organizationId, invoiceId, kind: 'issued' };
        await context.jobs.enqueue(tx, invoiceEmailQueue, payload, { singletonKey: `invoice-email:${invoiceId}:issued` });
      }

      const written = await writeInvoice(tx, {
        invoiceId,
        organizationId,
        period,
        plan,
        currency,
        status,
        composed,
        clusterIds: billedClusters.map((item) => item.cluster.id),
        billTo: billToSnapshot(profile),
        seller: sellerSnapshot(context.config),
        now,
      });
      if (written === null) throw new InvoiceAlreadyIssued();
      const { number } = written;

      if (composed.creditsAppliedMinor > 0n) {
        await appendLedgerEntry(tx, {
          organizationId,
          amountMinor: -composed.creditsAppliedMinor,
          currency,
          reason: 'invoice',
          reference: invoiceId,
          description: `Invoice ${number}`,
          createdAt: now,
        });
      }
      await recordAuditEvent(tx, request, now, {
        organizationId,
        type: INVOICE_ISSUE,
        changes: {
          invoiceId,
          invoiceNumber: number,
          periodStart: period.start.toISOString(),
          periodEnd: period.end.toISOString(),
          plan: plan.code,
          status,
          currency,
          subtotalMinor: composed.subtotalMinor,
          creditsAppliedMinor: composed.creditsAppliedMinor,
          totalMinor: composed.totalMinor,
        },
      });
      return { outcome: 'created', invoiceId, number, status, totalMinor: composed.totalMinor } as const;
    });
  } catch (error) {
    if (error instanceof InvoiceAlreadyIssued) return { outcome: 'exists' };
    throw error;
  }
}

interface InvoiceToWrite {
  invoiceId: string;
  organizationId: string;
  period: BillingPeriod;
  plan: { code: string; kind: PlanKind };
  currency: string;
  status: InvoiceStatus;
  composed: ComposedInvoice;
  /** The cluster of each usage line, in order. */
  clusterIds: string[];
  billTo: BillToSnapshot;
  seller: SellerSnapshot;
  now: Date;
}

/**
 * Takes the next number from the counter and writes the invoice and its lines, in one statement (the counter row
 * stays locked until the commit, so the fewer round trips after it the better). Null when the organization already
 * has an invoice for the period; the caller then rolls back, which gives the number back.
 */
async function writeInvoice(tx: Queryable, invoice: InvoiceToWrite): Promise<{ number: string; sequenceNumber: bigint } | null> {
  const { composed, now } = invoice;
  let usageIndex = 0;
  const lineClusters = composed.lines.map((line) => (line.kind === 'usage' ? (invoice.clusterIds[usageIndex++] ?? null) : null));
  const { rows } = await tx.query<{ number: string; sequence_number: bigint }>(
    `WITH counter AS (
       UPDATE invoice_number_counter SET last_number = last_number + 1 WHERE singleton RETURNING last_number
     ), invoice AS (
       INSERT INTO invoices (id, organization_id, number, sequence_number, period_start, period_end, plan_code, plan_kind, currency,
                             status, subtotal_minor, credits_applied_minor, total_minor, bill_to, seller, issued_at, due_at,
                             paid_at, next_payment_attempt_at, created_at)
       SELECT $1, $2, 'INV-' || repeat('0', greatest(0, 6 - length(counter.last_number::text))) || counter.last_number::text,
              counter.last_number, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $14
         FROM counter
       ON CONFLICT (organization_id, period_start) DO NOTHING
       RETURNING id, number, sequence_number
     ), lines AS (
       INSERT INTO invoice_lines (invoice_id, position, organization_id, kind, description, quantity, amount_minor, cluster_id)
       SELECT invoice.id, line.position, $2, line.kind, line.description, line.quantity, line.amount_minor, line.cluster_id
         FROM invoice, unnest($18::int[], $19::text[], $20::text[], $21::text[], $22::int8[], $23::uuid[])
                AS line(position, kind, description, quantity, amount_minor, cluster_id)
       RETURNING 1
     )
     SELECT number, sequence_number FROM invoice`,
    [
      invoice.invoiceId,
      invoice.organizationId,
      invoice.period.start,
      invoice.period.end,
      invoice.plan.code,
      invoice.plan.kind,
      invoice.currency,
      invoice.status,
      composed.subtotalMinor,
      composed.creditsAppliedMinor,
      composed.totalMinor,
      JSON.stringify(invoice.billTo),
      JSON.stringify(invoice.seller),
      now,
      addDays(now, UNPAID_INVOICE_GRACE_DAYS),
      invoice.status === 'PAID' ? now : null,
      invoice.status === 'PENDING' ? now : null,
      composed.lines.map((_line, index) => index + 1),
      composed.lines.map((line) => line.kind),
      composed.lines.map((line) => line.description),
      composed.lines.map((line) => line.quantity),
      // Array elements travel as text: the drivers convert top-level bigints only.
      composed.lines.map((line) => line.amountMinor.toString()),
      lineClusters,
    ],
  );
  const row = rows[0];
  return row ? { number: row.number, sequenceNumber: row.sequence_number } : null;
}
