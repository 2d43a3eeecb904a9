/**
 * The batch reader of invoicing: what a batch of organizations needs to be invoiced for a period, with each table
 * read once for the whole batch. It takes the invoicing locks first, so that what it reads is what the batch writes.
 */
import sql from 'sql-template-tag';
import type { Queryable } from '../../db/database.js';
import { toPostalAddress, type PostalAddressRow } from '../addresses/billing-address.js';
import type { BillingPeriod } from '../../domain/billing-period.js';
import type { PlanFeeLine } from '../../domain/proration.js';
import { trialWindowOf } from '../../domain/trial.js';
import { loadClusterChargesForOrganizations, type ClusterPeriodCharge } from '../costs/cluster-charges.js';
import { loadLateUsageChargesForOrganizations, type LateUsageCharge } from '../costs/late-usage.js';
import { loadPlanFeeLinesForOrganizations } from '../plans/plan-fee-lines.js';
import type { PlanKind } from '../plans/plan.js';
import type { BillToFields } from './bill-to-snapshot.js';
import { lockOrganizationsInvoicing } from './invoicing-lock.js';

export interface OrganizationToInvoice {
  id: string;
  currency: string;
  /** The plan at the end of the period decides how the invoice is paid (charged to the card, or from credits). */
  plan: { code: string; kind: PlanKind };
  /** It already has its invoice for the period (then nothing else is read for it). */
  invoiced: boolean;
  billTo: BillToFields;
  planLines: PlanFeeLine[];
  clusterCharges: ClusterPeriodCharge[];
  /** Usage of earlier, already invoiced periods that arrived after their invoice: billed on this one. */
  lateUsageCharges: LateUsageCharge[];
}

type OrganizationRow = PostalAddressRow & {
  id: string;
  currency: string;
  trial_started_at: Date | null;
  trial_ends_at: Date | null;
  plan_code: string;
  plan_kind: PlanKind;
  invoiced: boolean;
  contact_first_name: string | null;
  contact_last_name: string | null;
  email: string | null;
  tax_id: string | null;
  tax_id_type: string | null;
};

/**
 * Every organization row of the batch in one statement, with what invoicing needs of it: currency, trial window, the
 * plan at the end of the period, whether it is invoiced already, and the bill-to fields of its profile and default
 * address. FOR KEY SHARE, in id order: the invoice rows the batch writes reference these rows, and a concurrent
 * change of the organization (which locks the row FOR UPDATE) makes the batch wait here, not at the number counter.
 * The profile and the address are looked up per organization (LATERAL … LIMIT 1, at most one each): as plain joins,
 * the planner would hash them and read the whole table for every batch.
 */
async function readOrganizations(tx: Queryable, organizationIds: readonly string[], period: BillingPeriod): Promise<OrganizationRow[]> {
  const { rows } = await tx.query<OrganizationRow>(
    sql`SELECT o.id, o.currency, o.trial_started_at, o.trial_ends_at, COALESCE(last.code, current.code) AS plan_code,
               COALESCE(last.kind, current.kind) AS plan_kind,
               EXISTS (SELECT 1 FROM invoices i WHERE i.organization_id = o.id AND i.period_start = ${period.start}::timestamptz) AS invoiced,
               p.contact_first_name, p.contact_last_name, p.email, p.tax_id, p.tax_id_type,
               a.company, a.address_line1, a.address_line2, a.city, a.state, a.postal_code, a.country
          FROM organizations o
          JOIN plans current ON current.code = o.plan
          LEFT JOIN LATERAL (
            SELECT plan.code, plan.kind FROM plan_subscriptions s JOIN plans plan ON plan.code = s.plan_code
             WHERE s.organization_id = o.id AND s.started_at < ${period.end}::timestamptz
               AND (s.ended_at IS NULL OR s.ended_at > ${period.start}::timestamptz)
             ORDER BY s.started_at DESC, s.id DESC LIMIT 1) last ON true
          LEFT JOIN LATERAL (
            SELECT p.contact_first_name, p.contact_last_name, p.email, p.tax_id, p.tax_id_type
              FROM billing_profiles p WHERE p.organization_id = o.id LIMIT 1) p ON true
          LEFT JOIN LATERAL (
            SELECT a.company, a.address_line1, a.address_line2, a.city, a.state, a.postal_code, a.country
              FROM billing_addresses a WHERE a.organization_id = o.id AND a.is_default LIMIT 1) a ON true
         WHERE o.id = ANY(${organizationIds}::uuid[])
         ORDER BY o.id
           FOR KEY SHARE OF o`,
    { prepare: 'read_organizations_to_invoice' },
  );
  return rows;
}

function toBillTo(row: OrganizationRow): BillToFields {
  const { company, ...address } = toPostalAddress(row);
  return {
    contactFirstName: row.contact_first_name,
    contactLastName: row.contact_last_name,
    email: row.email,
    taxId: row.tax_id,
    taxIdType: row.tax_id_type,
    companyName: company,
    ...address,
  };
}

/**
 * Locks and reads the batch: organization id → what invoicing needs; an id that names no organization is absent.
 * Plan fees and cluster charges come from the same loaders as the live cost, so both follow the same rules.
 */
export async function readInvoicingBatch(
  tx: Queryable,
  organizationIds: readonly string[],
  period: BillingPeriod,
): Promise<Map<string, OrganizationToInvoice>> {
  await lockOrganizationsInvoicing(tx, organizationIds);
  const rows = await readOrganizations(tx, organizationIds, period);
  const toInvoice = rows.filter((row) => !row.invoiced);
  // Sequential: a transaction's one connection takes one query at a time.
  const planLines =
    toInvoice.length > 0
      ? await loadPlanFeeLinesForOrganizations(tx, toInvoice.map((row) => ({ id: row.id, trial: trialWindowOf(row.trial_started_at, row.trial_ends_at) })), period)
      : new Map<string, PlanFeeLine[]>();
  const clusterCharges =
    toInvoice.length > 0
      ? await loadClusterChargesForOrganizations(tx, toInvoice.map((row) => row.id), period)
      : new Map<string, ClusterPeriodCharge[]>();
  const lateUsageCharges =
    toInvoice.length > 0
      ? await loadLateUsageChargesForOrganizations(tx, toInvoice.map((row) => row.id), period)
      : new Map<string, LateUsageCharge[]>();
  return new Map(
    rows.map((row) => [
      row.id,
      {
        id: row.id,
        currency: row.currency,
        plan: { code: row.plan_code, kind: row.plan_kind },
        invoiced: row.invoiced,
        billTo: toBillTo(row),
        planLines: planLines.get(row.id) ?? [],
        clusterCharges: clusterCharges.get(row.id) ?? [],
        lateUsageCharges: lateUsageCharges.get(row.id) ?? [],
      },
    ]),
  );
}
