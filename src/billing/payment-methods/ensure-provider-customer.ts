/**
 * The payment provider's customer of an organization, created on first need (first card, first charge) from the
 * billing profile. Called outside any transaction: it may talk to the provider.
 */
import type { AppContext } from '../../app-context.js';
import { notFound } from '../../errors.js';
import { syncCustomerQueue } from '../../jobs/queues.js';
import { loadBillingProfile } from '../profile/billing-profile.js';
import { providerCustomerDetails } from './provider-customer-details.js';

/**
 * Returns `organizations.provider_customer_reference`, creating the provider customer when there is none yet.
 * Two processes racing here may both ask the provider (the Stripe adapter keys the create on the organization, so
 * it answers the same customer); only one reference is ever stored (compare-and-set), and the loser uses it.
 * Authorization is the caller's job.
 */
export async function ensureProviderCustomer(context: AppContext, organizationId: string): Promise<string> {
  const existing = await context.database.query<{ provider_customer_reference: string | null }>(
    'SELECT provider_customer_reference FROM organizations WHERE id = $1',
    [organizationId],
  );
  const row = existing.rows[0];
  if (!row) throw notFound('Organization');
  if (row.provider_customer_reference !== null) return row.provider_customer_reference;

  const profile = await loadBillingProfile(context.database, organizationId);
  const created = await context.payments.upsertCustomer(null, providerCustomerDetails(profile));

  const stored = await context.database.query<{ billing_version: bigint }>(
    `UPDATE organizations SET provider_customer_reference = $2
      WHERE id = $1 AND provider_customer_reference IS NULL
      RETURNING billing_version`,
    [organizationId, created],
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

  const winner = await context.database.query<{ provider_customer_reference: string | null }>(
    'SELECT provider_customer_reference FROM organizations WHERE id = $1',
    [organizationId],
  );
  const reference = winner.rows[0]?.provider_customer_reference ?? null;
  if (reference === null) throw notFound('Organization'); // deleted meanwhile
  if (reference !== created) {
    context.logger.warn({ organizationId }, 'another process created the provider customer first; a spare customer stays at the provider');
  }
  return reference;
}
