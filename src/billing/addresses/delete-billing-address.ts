import sql from 'sql-template-tag';
import type { AppContext } from '../../app-context.js';
import { recordAuditEvent } from '../../audit/record-audit-event.js';
import { preconditionFailed } from '../../errors.js';
import { syncCustomerQueue } from '../../jobs/queues.js';
import type { Caller } from '../../domain/actor.js';
import { enterOrganization } from '../organizations/organization-access.js';
import { bumpBillingVersion, deleteAddress, loadAddress, promoteNewestAddress, type BillingAddress } from './billing-address.js';
import { recordProfileUpdatedEvent } from '../profile/profile-events.js';

export const BILLING_ADDRESS_DELETE = 'BILLING_ADDRESS_DELETE';

/** Deleting the default promotes the most recently created remaining address. */
export async function deleteBillingAddress(
  context: AppContext,
  caller: Caller,
  input: { organizationId: string; addressId: string; expectedVersion?: bigint | null },
): Promise<{ deleted: BillingAddress; promotedAddressId: string | null }> {
  const now = context.clock.now();
  const result = await context.database.transaction(async (tx) => {
    const organization = await enterOrganization<{ billing_version: bigint }>(tx, caller, { id: input.organizationId }, 'billing.write', {
      lock: 'update',
      select: sql`o.billing_version`,
    });
    const address = await loadAddress(tx, organization.id, input.addressId);
    if (input.expectedVersion != null && input.expectedVersion !== organization.billing_version) throw preconditionFailed();
    await deleteAddress(tx, organization.id, address.id);
    const promotedAddressId = address.isDefault ? await promoteNewestAddress(tx, organization.id, now) : null;
    await bumpBillingVersion(tx, organization.id, now);
    await recordAuditEvent(tx, caller, now, {
      organizationId: organization.id,
      type: BILLING_ADDRESS_DELETE,
      changes: { addressId: address.id, wasDefault: address.isDefault, promotedAddressId },
    });
    await recordProfileUpdatedEvent(tx, now, caller, organization.id, ['billing_addresses'], { address_id: address.id });
    if (address.isDefault) await context.jobs.enqueue(tx, syncCustomerQueue, { organizationId: organization.id });
    return { deleted: address, promotedAddressId };
  });
  context.jobs.nudge();
  return result;
}
