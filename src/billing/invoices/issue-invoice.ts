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
import type { InvoiceStatus } from './invoice.js';

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

/** The plan the organization was on at the end of the period decides how the invoice is paid. */
async function planAtPeriodEnd(tx: Queryable, organizationId: string, period: BillingPeriod): Promise<{ code: string; kind: PlanKind }> {
  const { rows } = await tx.query<{ code: string; kind: PlanKind }>(
    `SELECT p.code, p.kind FROM plan_subscriptions s JOIN plans p ON p.code = s.plan_code
      WHERE s.organization_id = $1 AND s.started_at < $3 AND (s.ended_at IS NULL OR s.ended_at > $2)
      ORDER BY s.started_at DESC, s.id DESC LIMIT 1`,
    [organizationId, period.start, period.end],
  );
  if (rows[0]) return rows[0];
  const current = await tx.query<{ code: string; kind: PlanKind }>(
    'SELECT p.code, p.kind FROM organizations o JOIN plans p ON p.code = o.plan WHERE o.id = $1',
    [organizationId],
  );
  if (!current.rows[0]) throw new Error(`organization ${organizationId} not found`);
  return current.rows[0];
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
      const existing = await tx.query('SELECT 1 FROM invoices WHERE organization_id = $1 AND period_start = $2', [organizationId, period.start]);
      if (existing.rows.length > 0) return { outcome: 'exists' } as const;

      const { rows } = await tx.query<{ currency: string }>('SELECT currency FROM organizations WHERE id = $1', [organizationId]);
      if (!rows[0]) throw new Error(`organization ${organizationId} not found`);
      const currency = rows[0].currency;
      const plan = await planAtPeriodEnd(tx, organizationId, period);
      const planLines = (await loadPlanFeeLines(tx, organizationId, period)).filter((line) => line.amountMinor !== 0n);
      const clusterCharges = await loadClusterCharges(tx, organizationId, period);
      for (const { cluster } of clusterCharges) {
        if (cluster.pricing.currency !== currency) {
          throw new Error(`cluster ${cluster.id} is priced in ${cluster.pricing.currency}, the organization is billed in ${currency}`);
        }
      }
      const usageLines = clusterCharges.filter((item) => item.charge.amountMinor !== 0n).map(usageLine);
      if (planLines.length === 0 && usageLines.length === 0) return { outcome: 'nothing_to_bill' } as const;

      const applyCredits = plan.kind === 'credits';
      let availableCreditMinor = 0n;
      if (applyCredits) {
        await lockCreditBalance(tx, organizationId);
        availableCreditMinor = await getCreditBalance(tx, organizationId, currency);
      }
      const composed = composeInvoice({ currency, planLines, usageLines, availableCreditMinor, applyCredits });
      const profile = await loadBillingProfile(tx, organizationId);
      const now = context.clock.now();
      const status: InvoiceStatus = composed.totalMinor === 0n ? 'PAID' : plan.kind === 'invoiced' ? 'PENDING' : 'NOT_PAID';

      // Taken last, so the counter row stays locked only for the writes.
      const counter = await tx.query<{ last_number: bigint }>(
        'UPDATE invoice_number_counter SET last_number = last_number + 1 WHERE singleton RETURNING last_number',
      );
      const sequenceNumber = counter.rows[0]!.last_number;
      const number = `INV-${sequenceNumber.toString().padStart(6, '0')}`;
      const invoiceId = randomUUID();
      const inserted = await tx.query(
        `INSERT INTO invoices (id, organization_id, number, sequence_number, period_start, period_end, plan_code, plan_kind, currency,
                               status, subtotal_minor, credits_applied_minor, total_minor, bill_to, seller, issued_at, due_at,
                               paid_at, next_payment_attempt_at, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $16)
         ON CONFLICT (organization_id, period_start) DO NOTHING`,
        [
          invoiceId,
          organizationId,
          number,
          sequenceNumber,
          period.start,
          period.end,
          plan.code,
          plan.kind,
          currency,
          status,
          composed.subtotalMinor,
          composed.creditsAppliedMinor,
          composed.totalMinor,
          JSON.stringify(billToSnapshot(profile)),
          JSON.stringify(sellerSnapshot(context.config)),
          now,
          addDays(now, UNPAID_INVOICE_GRACE_DAYS),
          status === 'PAID' ? now : null,
          status === 'PENDING' ? now : null,
        ],
      );
      if (inserted.rowCount === 0) throw new InvoiceAlreadyIssued();
      await insertLines(tx, organizationId, invoiceId, composed, clusterCharges);

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
      if (status === 'PENDING') {
        const payload: ChargeInvoicePayload = { organizationId, invoiceId, attempt: 1 };
        await context.jobs.enqueue(tx, chargeInvoiceQueue, payload, { singletonKey: `invoice-charge:${invoiceId}:1`, maxAttempts: 5 });
      } else {
        const payload: InvoiceEmailPayload = { organizationId, invoiceId, kind: 'issued' };
        await context.jobs.enqueue(tx, invoiceEmailQueue, payload, { singletonKey: `invoice-email:${invoiceId}:issued` });
      }
      return { outcome: 'created', invoiceId, number, status, totalMinor: composed.totalMinor } as const;
    });
  } catch (error) {
    if (error instanceof InvoiceAlreadyIssued) return { outcome: 'exists' };
    throw error;
  }
}

async function insertLines(
  tx: Queryable,
  organizationId: string,
  invoiceId: string,
  composed: ComposedInvoice,
  clusterCharges: ClusterPeriodCharge[],
): Promise<void> {
  // Usage lines keep their cluster: they are the cluster charges with a non-zero amount, in the same order.
  const clusters = clusterCharges.filter((item) => item.charge.amountMinor !== 0n).map((item) => item.cluster.id);
  const values: string[] = [];
  const params: unknown[] = [];
  let usageIndex = 0;
  composed.lines.forEach((line, index) => {
    const clusterId = line.kind === 'usage' ? (clusters[usageIndex++] ?? null) : null;
    const base = params.length;
    values.push(`($${base + 1}, $${base + 2}, $${base + 3}, $${base + 4}, $${base + 5}, $${base + 6}, $${base + 7}, $${base + 8})`);
    params.push(invoiceId, index + 1, organizationId, line.kind, line.description, line.quantity, line.amountMinor, clusterId);
  });
  await tx.query(
    `INSERT INTO invoice_lines (invoice_id, position, organization_id, kind, description, quantity, amount_minor, cluster_id)
     VALUES ${values.join(', ')}`,
    params,
  );
}
