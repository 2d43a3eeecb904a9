import sql from 'sql-template-tag';
import type { AppContext } from '../../app-context.js';
import type { Caller } from '../../domain/actor.js';
import { evaluateBillingStatus, type BillingStatus } from '../../domain/billing-status.js';
import { getCreditBalance } from '../credits/credit-balance.js';
import { awaitingPaymentStatuses } from '../invoices/invoice.js';
import { enterOrganization } from '../organizations/organization-access.js';
import type { PlanKind } from '../plans/plan.js';

/**
 * Whether the organization may keep deploying (seed 004): an invoiced plan is invalid while an invoice is unpaid
 * (PENDING, NOT_PAID or PAYMENT_DUE: a charge that never ran is unpaid too) for more than a week; a credits plan is invalid when no credit is left.
 */
export async function getBillingStatus(context: AppContext, caller: Caller, organizationId: string): Promise<BillingStatus> {
  const now = context.clock.now();
  const db = context.database;
  const organization = await enterOrganization<{ kind: PlanKind; currency: string }>(db, caller, { id: organizationId }, 'billing.read', {
    select: sql`p.kind, o.currency`,
    join: sql`JOIN plans p ON p.code = o.plan`,
  });
  const { rows: unpaid } = await db.query<{ number: string; issued_at: Date; total_minor: bigint; currency: string }>(
    sql`SELECT number, issued_at, total_minor, currency FROM invoices
         WHERE organization_id = ${organization.id}::uuid AND status = ANY(${[...awaitingPaymentStatuses]}::text[])`,
  );
  return evaluateBillingStatus({
    planKind: organization.kind,
    now,
    unpaidInvoices: unpaid.map((row) => ({ number: row.number, issuedAt: row.issued_at, totalMinor: row.total_minor, currency: row.currency })),
    creditBalanceMinor: organization.kind === 'credits' ? await getCreditBalance(db, organization.id, organization.currency) : 0n,
    currency: organization.currency,
  });
}
