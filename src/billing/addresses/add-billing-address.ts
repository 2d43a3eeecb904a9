import sql from 'sql-template-tag';
import type { AppContext } from '../../app-context.js';
import { recordAuditEvent } from '../../audit/record-audit-event.js';
import { invalidInput, preconditionFailed } from '../../errors.js';
import { syncCustomerQueue } from '../../jobs/queues.js';
import type { Caller } from '../../domain/actor.js';
import { enterOrganization } from '../organizations/organization-access.js';
import {
  bumpBillingVersion,
  completeAddressValues,
  countAddresses,
  insertAddress,
  newBillingAddressId,
  normalizeAddressValues,
  unsetDefaultAddress,
  type AddressValues,
  type BillingAddress,
} from './billing-address.js';
import { recordProfileUpdatedEvent } from '../profile/profile-events.js';

export const BILLING_ADDRESS_CREATE = 'BILLING_ADDRESS_CREATE';

/** The first address of an organization becomes its default whatever the caller asked; `isDefault` moves the default. */
export async function addBillingAddress(
  context: AppContext,
  caller: Caller,
  input: { organizationId: string; values: Partial<AddressValues>; isDefault: boolean; expectedVersion?: bigint | null },
): Promise<BillingAddress> {
  const normalized = normalizeAddressValues(completeAddressValues(input.values));
  if (normalized.errors.length > 0) throw invalidInput(normalized.errors);
  const values = completeAddressValues(normalized.values);
  const now = context.clock.now();
  const address = await context.database.transaction(async (tx) => {
    const organization = await enterOrganization<{ billing_version: bigint }>(tx, caller, { id: input.organizationId }, 'billing.write', {
      lock: 'update',
      select: sql`o.billing_version`,
    });
    if (input.expectedVersion != null && input.expectedVersion !== organization.billing_version) throw preconditionFailed();
    const makeDefault = input.isDefault || (await countAddresses(tx, organization.id)) === 0n;
    if (makeDefault) await unsetDefaultAddress(tx, organization.id, now);
    const created = await insertAddress(tx, { id: newBillingAddressId(), organizationId: organization.id, ...values, isDefault: makeDefault }, now);
    await bumpBillingVersion(tx, organization.id, now);
    await recordAuditEvent(tx, caller, now, {
      organizationId: organization.id,
      type: BILLING_ADDRESS_CREATE,
      changes: { addressId: created.id, isDefault: created.isDefault, ...values },
    });
    await recordProfileUpdatedEvent(tx, now, caller, organization.id, ['billing_addresses'], { address_id: created.id });
    if (makeDefault) await context.jobs.enqueue(tx, syncCustomerQueue, { organizationId: organization.id });
    return created;
  });
  context.jobs.nudge();
  return address;
}
