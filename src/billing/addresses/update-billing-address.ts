import type { AppContext } from '../../app-context.js';
import { recordAuditEvent, type AuditChanges } from '../../audit/record-audit-event.js';
import { BillingError, invalidInput, preconditionFailed } from '../../errors.js';
import { syncCustomerQueue } from '../../jobs/queues.js';
import type { Caller } from '../../domain/actor.js';
import { authorize } from '../access/authorize.js';
import {
  addressValueFields,
  bumpBillingVersion,
  loadAddress,
  lockOrganization,
  normalizeAddressValues,
  type AddressValues,
  type BillingAddress,
} from './billing-address.js';

export const BILLING_ADDRESS_UPDATE = 'BILLING_ADDRESS_UPDATE';

/**
 * Partial update of one address. `isDefault: true` moves the default here; the default cannot be unset directly
 * (there must always be one): make another address the default instead.
 */
export async function updateBillingAddress(
  context: AppContext,
  request: Caller,
  input: { organizationId: string; addressId: string; values: Partial<AddressValues>; isDefault?: boolean; expectedVersion?: bigint | null },
): Promise<BillingAddress> {
  const { values, errors } = normalizeAddressValues(input.values);
  if (errors.length > 0) throw invalidInput(errors);
  const now = context.clock.now();
  const result = await context.database.transaction(async (tx) => {
    await authorize(tx, request.actor, input.organizationId, 'billing');
    const version = await lockOrganization(tx, input.organizationId);
    const current = await loadAddress(tx, input.organizationId, input.addressId);
    if (input.expectedVersion != null && input.expectedVersion !== version) throw preconditionFailed();
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
      await tx.query('UPDATE billing_addresses SET is_default = false, updated_at = $2 WHERE organization_id = $1 AND is_default', [
        input.organizationId,
        now,
      ]);
      next.isDefault = true;
    }
    next.updatedAt = now;
    await tx.query(
      `UPDATE billing_addresses SET name = $3, company = $4, address_line1 = $5, address_line2 = $6, city = $7, state = $8,
              postal_code = $9, country = $10, is_default = $11, updated_at = $12
        WHERE organization_id = $1 AND id = $2`,
      [
        input.organizationId,
        input.addressId,
        next.name,
        next.company,
        next.addressLine1,
        next.addressLine2,
        next.city,
        next.state,
        next.postalCode,
        next.country,
        next.isDefault,
        now,
      ],
    );
    await bumpBillingVersion(tx, input.organizationId, now);
    await recordAuditEvent(tx, request, now, {
      organizationId: input.organizationId,
      type: BILLING_ADDRESS_UPDATE,
      changes: { addressId: current.id, ...changes },
    });
    if (next.isDefault) await context.jobs.enqueue(tx, syncCustomerQueue, { organizationId: input.organizationId });
    return { address: next, changed: true };
  });
  if (result.changed) context.jobs.nudge();
  return result.address;
}
