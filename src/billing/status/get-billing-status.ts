import type { AppContext } from '../../app-context.js';
import { evaluateBillingStatus, type BillingStatus } from '../../domain/billing-status.js';
import { notFound } from '../../errors.js';
import type { Caller } from '../../domain/actor.js';
import { authorize } from '../access/authorize.js';
import type { PlanKind } from '../plans/plan.js';
import { getCreditBalance } from '../credits/credit-balance.js';

/**
 * Whether the organization may keep deploying (seed 004): an invoiced plan is invalid while an invoice is unpaid
 * (PENDING, NOT_PAID or PAYMENT_DUE: a charge that never ran is unpaid too) for more than a week; a credits plan is invalid when no credit is left.
 */
export async function getBillingStatus(context: AppContext, request: Caller, organizationId: string): Promise<BillingStatus> {
  const now = context.clock.now();
  const db = context.database;
  await authorize(db, request.actor, organizationId, 'billing');
  const { rows } = await db.query<{ kind: PlanKind; currency: string }>(
    'SELECT p.kind, o.currency FROM organizations o JOIN plans p ON p.code = o.plan WHERE o.id = $1',
    [organizationId],
  );
  const organization = rows[0];
  if (!organization) throw notFound('Organization');
  const { rows: unpaid } = await db.query<{ number: string; issued_at: Date; total_minor: bigint; currency: string }>(
    `SELECT number, issued_at, total_minor, currency FROM invoices
      WHERE organization_id = $1 AND status IN ('PENDING', 'NOT_PAID', 'PAYMENT_DUE')`,
    [organizationId],
  );
  return evaluateBillingStatus({
    planKind: organization.kind,
    now,
    unpaidInvoices: unpaid.map((row) => ({ number: row.number, issuedAt: row.issued_at, totalMinor: row.total_minor, currency: row.currency })),
    creditBalanceMinor: organization.kind === 'credits' ? await getCreditBalance(db, organizationId, organization.currency) : 0n,
    currency: organization.currency,
  });
}
