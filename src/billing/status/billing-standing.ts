/**
 * The inputs of the one billing-status rule (`evaluateBillingStatus`), read for an organization: its plan kind and
 * currency, its unpaid invoices, its credit balance and whether it has a usable card. Both the billing status and
 * the deployment restriction of an Organization answer come from here. Access is the caller's job.
 */
import sql, { type Sql } from 'sql-template-tag';
import type { Queryable } from '../../db/database.js';
import { isCardExpired } from '../../domain/card.js';
import { evaluateBillingStatus, type BillingStatus } from '../../domain/billing-status.js';
import { awaitingPaymentStatuses } from '../../domain/invoice-status.js';
import { notFound } from '../../errors.js';
import { getCreditBalance } from '../credits/credit-balance.js';
import type { PlanKind } from '../plans/plan.js';

export interface StandingSubject {
  id: string;
  plan_kind: PlanKind;
  currency: string;
}

/** Columns and join that give a `StandingSubject` from the organization row `o` (for `enterOrganization`). */
export const standingSelect: Sql = sql`p.kind AS plan_kind, o.currency`;
export const standingJoin: Sql = sql`JOIN plans p ON p.code = o.plan`;

/** The billing status of an organization already entered with `standingSelect` and `standingJoin`. */
export async function billingStatusOf(db: Queryable, organization: StandingSubject, now: Date): Promise<BillingStatus> {
  const { rows: unpaid } = await db.query<{ number: string; issued_at: Date; total_minor: bigint; currency: string }>(
    sql`SELECT number, issued_at, total_minor - owed_reduced_minor AS total_minor, currency FROM invoices
         WHERE organization_id = ${organization.id}::uuid AND status = ANY(${[...awaitingPaymentStatuses]}::text[])`,
  );
  const { rows: cards } = await db.query<{ expiry_month: number; expiry_year: number }>(
    sql`SELECT expiry_month, expiry_year FROM payment_methods WHERE organization_id = ${organization.id}::uuid`,
  );
  return evaluateBillingStatus({
    planKind: organization.plan_kind,
    now,
    unpaidInvoices: unpaid.map((row) => ({ number: row.number, issuedAt: row.issued_at, totalMinor: row.total_minor, currency: row.currency })),
    creditBalanceMinor: organization.plan_kind === 'credits' ? await getCreditBalance(db, organization.id, organization.currency) : 0n,
    currency: organization.currency,
    hasUsableCard: cards.some((card) => !isCardExpired(card.expiry_month, card.expiry_year, now)),
  });
}

/** `billingStatusOf` by organization id (after a use case has already checked access). */
export async function loadBillingStatus(db: Queryable, organizationId: string, now: Date): Promise<BillingStatus> {
  const { rows } = await db.query<StandingSubject>(
    sql`SELECT o.id, ${standingSelect} FROM organizations o ${standingJoin} WHERE o.id = ${organizationId}::uuid`,
  );
  const organization = rows[0];
  if (!organization) throw notFound('Organization');
  return billingStatusOf(db, organization, now);
}
