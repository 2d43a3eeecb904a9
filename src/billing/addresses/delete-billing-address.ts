import type { AppContext } from '../../app-context.js';
import { recordAuditEvent } from '../../audit/record-audit-event.js';
import { preconditionFailed } from '../../errors.js';
import { syncCustomerQueue } from '../../jobs/queues.js';
import type { Caller } from '../../domain/actor.js';
import { authorize } from '../access/authorize.js';
import { bumpBillingVersion, loadAddress, lockOrganization, type BillingAddress } from './billing-address.js';

export const BILLING_ADDRESS_DELETE = 'BILLING_ADDRESS_DELETE';

/** Deleting the default promotes the most recently created remaining address. */
export async function deleteBillingAddress(
  context: AppContext,
  request: Caller,
  input: { organizationId: string; addressId: string; expectedVersion?: bigint | null },
): Promise<{ deleted: BillingAddress; promotedAddressId: string | null }> {
  const now = context.clock.now();
  const result = await context.database.transaction(async (tx) => {
    await authorize(tx, request.actor, input.organizationId, 'billing');
    const version = await lockOrganization(tx, input.organizationId);
    const address = await loadAddress(tx, input.organizationId, input.addressId);
    if (input.expectedVersion != null && input.expectedVersion !== version) throw preconditionFailed();
    await tx.query('DELETE FROM billing_addresses WHERE organization_id = $1 AND id = $2', [input.organizationId, input.addressId]);
    let promotedAddressId: string | null = null;
    if (address.isDefault) {
      const { rows } = await tx.query<{ id: string }>(
        `UPDATE billing_addresses SET is_default = true, updated_at = $2
          WHERE id = (SELECT id FROM billing_addresses WHERE organization_id = $1 ORDER BY created_at DESC, id DESC LIMIT 1)
          RETURNING id`,
        [input.organizationId, now],
      );
      promotedAddressId = rows[0]?.id ?? null;
    }
    await bumpBillingVersion(tx, input.organizationId, now);
    await recordAuditEvent(tx, request, now, {
      organizationId: input.organizationId,
      type: BILLING_ADDRESS_DELETE,
      changes: { addressId: address.id, wasDefault: address.isDefault, promotedAddressId },
    });
    if (address.isDefault) await context.jobs.enqueue(tx, syncCustomerQueue, { organizationId: input.organizationId });
    return { deleted: address, promotedAddressId };
  });
  context.jobs.nudge();
  return result;
}
