import type { AppContext } from '../../app-context.js';
import { recordAuditEvent } from '../../audit/record-audit-event.js';
import { invalidInput, preconditionFailed } from '../../errors.js';
import { syncCustomerQueue } from '../../jobs/queues.js';
import type { Caller } from '../../domain/actor.js';
import { authorize } from '../access/authorize.js';
import { newBillingAddressId } from '../profile/update-billing-profile.js';
import {
  addressColumns,
  bumpBillingVersion,
  lockOrganization,
  normalizeAddressValues,
  toBillingAddress,
  type AddressValues,
  type BillingAddress,
} from './billing-address.js';

export const BILLING_ADDRESS_CREATE = 'BILLING_ADDRESS_CREATE';

/** The first address of an organization becomes its default whatever the caller asked; `isDefault` moves the default. */
export async function addBillingAddress(
  context: AppContext,
  request: Caller,
  input: { organizationId: string; values: AddressValues; isDefault: boolean; expectedVersion?: bigint | null },
): Promise<BillingAddress> {
  const { values, errors } = normalizeAddressValues(input.values);
  if (errors.length > 0) throw invalidInput(errors);
  const now = context.clock.now();
  const address = await context.database.transaction(async (tx) => {
    await authorize(tx, request.actor, input.organizationId, 'billing');
    const version = await lockOrganization(tx, input.organizationId);
    if (input.expectedVersion != null && input.expectedVersion !== version) throw preconditionFailed();
    const { rows: existing } = await tx.query<{ count: bigint }>(
      'SELECT count(*) AS count FROM billing_addresses WHERE organization_id = $1',
      [input.organizationId],
    );
    const makeDefault = input.isDefault || existing[0]!.count === 0n;
    if (makeDefault) {
      await tx.query('UPDATE billing_addresses SET is_default = false, updated_at = $2 WHERE organization_id = $1 AND is_default', [
        input.organizationId,
        now,
      ]);
    }
    const { rows } = await tx.query<Parameters<typeof toBillingAddress>[0]>(
      `INSERT INTO billing_addresses (id, organization_id, name, company, address_line1, address_line2, city, state,
                                      postal_code, country, is_default, created_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12)
       RETURNING ${addressColumns}`,
      [
        newBillingAddressId(),
        input.organizationId,
        values.name ?? null,
        values.company ?? null,
        values.addressLine1 ?? null,
        values.addressLine2 ?? null,
        values.city ?? null,
        values.state ?? null,
        values.postalCode ?? null,
        values.country ?? null,
        makeDefault,
        now,
      ],
    );
    const created = toBillingAddress(rows[0]!);
    await bumpBillingVersion(tx, input.organizationId, now);
    await recordAuditEvent(tx, request, now, {
      organizationId: input.organizationId,
      type: BILLING_ADDRESS_CREATE,
      changes: { addressId: created.id, isDefault: created.isDefault, ...values },
    });
    if (makeDefault) await context.jobs.enqueue(tx, syncCustomerQueue, { organizationId: input.organizationId });
    return created;
  });
  context.jobs.nudge();
  return address;
}
