import type { AppContext } from '../../app-context.js';
import { recordAuditEvent } from '../../audit/record-audit-event.js';
import type { Caller } from '../../domain/actor.js';
import { authorize } from '../access/authorize.js';
import { loadCreditCard, lockOrganizationForCards, PAYMENT_METHOD_REMOVE, type CreditCard } from './credit-card.js';
import { enqueueDetachPaymentMethod } from './detach-payment-method.js';

/**
 * Removes a card: one transaction deletes the row, promotes the most recent remaining card when the default went,
 * records the audit event and queues the provider-side detach, which runs after the commit.
 */
export async function deleteCreditCard(
  context: AppContext,
  request: Caller,
  input: { organizationId: string; creditCardId: string },
): Promise<{ deleted: CreditCard; promotedCreditCardId: string | null }> {
  const result = await context.database.transaction(async (tx) => {
    await authorize(tx, request.actor, input.organizationId, 'billing');
    await lockOrganizationForCards(tx, input.organizationId);
    const now = context.clock.now();
    const card = await loadCreditCard(tx, input.organizationId, input.creditCardId);
    await tx.query('DELETE FROM payment_methods WHERE organization_id = $1 AND id = $2', [input.organizationId, card.id]);
    let promotedCreditCardId: string | null = null;
    if (card.isDefault) {
      const { rows } = await tx.query<{ id: string }>(
        `UPDATE payment_methods SET is_default = true
          WHERE id = (SELECT id FROM payment_methods WHERE organization_id = $1 ORDER BY created_at DESC, id DESC LIMIT 1)
          RETURNING id`,
        [input.organizationId],
      );
      promotedCreditCardId = rows[0]?.id ?? null;
    }
    await recordAuditEvent(tx, request, now, {
      organizationId: input.organizationId,
      type: PAYMENT_METHOD_REMOVE,
      changes: {
        creditCardId: card.id,
        brand: card.brand,
        last4: card.last4,
        wasDefault: card.isDefault,
        promotedCreditCardId,
      },
    });
    await enqueueDetachPaymentMethod(context, tx, { provider: card.provider, providerReference: card.providerReference });
    return { deleted: card, promotedCreditCardId };
  });
  context.jobs.nudge();
  return result;
}
