/**
 * The payment provider's customer of an organization, created on first need (first card, first charge) from the
 * billing profile. Called outside any transaction: it may talk to the provider. Authorization is the caller's job.
 */
import sql from 'sql-template-tag';
import type { AppContext } from '../../app-context.js';
import type { Queryable } from '../../db/database.js';
import { notFound } from '../../errors.js';
import { syncCustomerQueue } from '../../jobs/queues.js';
import { loadBillingProfile } from '../profile/billing-profile.js';
import { providerCustomerDetails } from './provider-customer-details.js';
import { loadSellerTaxIdentity } from '../tax/seller-tax-identity.js';

/** `organizations.provider_customer_reference`: `null` while there is no customer yet, `undefined` when there is no such organization. */
export async function readProviderCustomerReference(db: Queryable, organizationId: string): Promise<string | null | undefined> {
  const { rows } = await db.query<{ provider_customer_reference: string | null }>(
    sql`SELECT provider_customer_reference FROM organizations WHERE id = ${organizationId}::uuid`,
  );
  return rows[0]?.provider_customer_reference;
}

/** Returns the organization's provider customer reference, creating the provider customer when there is none yet. */
export async function ensureProviderCustomer(context: AppContext, organizationId: string): Promise<string> {
  const reference = await readProviderCustomerReference(context.database, organizationId);
  if (reference === undefined) throw notFound('Organization');
  return reference ?? (await createProviderCustomer(context, organizationId));
}

/**
 * Creates the provider customer of an organization that had none when the caller read it, and returns its reference.
 * Two processes racing here may both ask the provider (the Stripe adapter keys the create on the organization, so
 * it answers the same customer); only one reference is ever stored (compare-and-set), and the loser uses it.
 */
export async function createProviderCustomer(context: AppContext, organizationId: string): Promise<string> {
  const profile = await loadBillingProfile(context.database, organizationId);
  const created = await context.payments.upsertCustomer(null, providerCustomerDetails(profile, (await loadSellerTaxIdentity(context.database)).country));

  const stored = await context.database.query<{ billing_version: bigint }>(
    sql`UPDATE organizations SET provider_customer_reference = ${created}::text
         WHERE id = ${organizationId}::uuid AND provider_customer_reference IS NULL
         RETURNING billing_version`,
  );
  const mine = stored.rows[0];
  if (mine) {
    // The profile changed while the customer was being created: its sync job may have found no customer to update.
    if (mine.billing_version !== profile.version) {
      await context.jobs.enqueue(context.database, syncCustomerQueue, { organizationId });
      context.jobs.nudge();
    }
    return created;
  }

  const reference = await readProviderCustomerReference(context.database, organizationId);
  if (reference === undefined || reference === null) throw notFound('Organization'); // deleted meanwhile
  if (reference !== created) {
    context.logger.warn({ organizationId }, 'another process created the provider customer first; a spare customer stays at the provider');
  }
  return reference;
}
