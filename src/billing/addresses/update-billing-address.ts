import sql from 'sql-template-tag';
import type { AppContext } from '../../app-context.js';
import { recordAuditEvent, type AuditChanges } from '../../audit/record-audit-event.js';
import { BillingError, invalidInput, preconditionFailed } from '../../errors.js';
import { syncCustomerQueue } from '../../jobs/queues.js';
import type { Caller } from '../../domain/actor.js';
import { enterOrganization } from '../organizations/organization-access.js';
import {
  addressValueFields,
  bumpBillingVersion,
  loadAddress,
  normalizeAddressValues,
  unsetDefaultAddress,
  updateAddress,
  type AddressValues,
  type BillingAddress,
} from './billing-address.js';
import { recordProfileUpdatedEvent } from '../profile/profile-events.js';

export const BILLING_ADDRESS_UPDATE = 'BILLING_ADDRESS_UPDATE';

/**
 * Partial update of one address. `isDefault: true` moves the default here; the default cannot be unset directly
 * (there must always be one): make another address the default instead.
 */
export async function updateBillingAddress(
  context: AppContext,
  caller: Caller,
  input: { organizationId: string; addressId: string; values: Partial<AddressValues>; isDefault?: boolean; expectedVersion?: bigint | null },
): Promise<BillingAddress> {
  const { values, errors } = normalizeAddressValues(input.values);
  if (errors.length > 0) throw invalidInput(errors);
  const now = context.clock.now();
  const result = await context.database.transaction(async (tx) => {
    const organization = await enterOrganization<{ billing_version: bigint }>(tx, caller, { id: input.organizationId }, 'billing.write', {
      lock: 'update',
      select: sql`o.billing_version`,
    });
    const current = await loadAddress(tx, organization.id, input.addressId);
    if (input.expectedVersion != null && input.expectedVersion !== organization.billing_version) throw preconditionFailed();
    if (input.isDefault === false && current.isDefault) {
      throw new BillingError('default_address_required', 409, 'Make another address the default instead of unsetting this one', [
        { field: 'isDefault', reason: 'default_required', message: 'an organization always has one default address' },
      ]);
    }
    const changes: AuditChanges = {};
    const next: BillingAddress = { ...current };
    for (const field of addressValueFields) {
      const value = values[field];
      if (value !== undefined && value !== current[field]) {
        changes[field] = { old: current[field], new: value };
        next[field] = value;
      }
    }
    const becomesDefault = input.isDefault === true && !current.isDefault;
    if (becomesDefault) changes.isDefault = { old: false, new: true };
    if (Object.keys(changes).length === 0) return { address: current, changed: false };

    if (becomesDefault) {
      await unsetDefaultAddress(tx, organization.id, now);
      next.isDefault = true;
    }
    next.updatedAt = now;
    await updateAddress(tx, next);
    await bumpBillingVersion(tx, organization.id, now);
    await recordAuditEvent(tx, caller, now, {
      organizationId: organization.id,
      type: BILLING_ADDRESS_UPDATE,
      changes: { addressId: current.id, ...changes },
    });
    await recordProfileUpdatedEvent(tx, now, caller, organization.id, ['billing_addresses'], {
      address_id: current.id,
      changed_address_fields: Object.keys(changes).sort(),
    });
    if (next.isDefault) await context.jobs.enqueue(tx, syncCustomerQueue, { organizationId: organization.id });
    return { address: next, changed: true };
  });
  if (result.changed) context.jobs.nudge();
  return result.address;
}
