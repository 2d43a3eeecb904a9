import sql from 'sql-template-tag';
import type { AppContext } from '../../app-context.js';
import { recordAuditEvent } from '../../audit/record-audit-event.js';
import type { Caller } from '../../domain/actor.js';
import { enterOrganization } from '../organizations/organization-access.js';
import { loadCreditCard, PAYMENT_METHOD_REMOVE, type CreditCard } from './credit-card.js';
import { enqueueDetachPaymentMethod } from './detach-payment-method.js';
import { insertUnpaidInvoicesRetry } from './unpaid-invoices-retry.js';

/**
 * Removes a card: one transaction deletes the row, promotes the most recent remaining card when the default went
 * (and then queues the retry of unpaid invoices on it), records the audit event and queues the provider-side detach, which runs after the commit. The organization lock
 * serialises deletions; a card added meanwhile waits for this transaction on the default card's row (see
 * `addCreditCard`) and the promotion, a statement of its own, sees a card added before it.
 */
export async function deleteCreditCard(
  context: AppContext,
  caller: Caller,
  input: { organizationId: string; creditCardId: string },
): Promise<{ deleted: CreditCard; promotedCreditCardId: string | null }> {
  const { organizationId } = input;
  const result = await context.database.transaction(async (tx) => {
    await enterOrganization(tx, caller, { id: organizationId }, 'billing.write', { lock: 'update' });
    const now = context.clock.now();
    const card = await loadCreditCard(tx, organizationId, input.creditCardId);
    await tx.query(sql`DELETE FROM payment_methods WHERE organization_id = ${organizationId}::uuid AND id = ${card.id}::uuid`);
    let promotedCreditCardId: string | null = null;
    if (card.isDefault) {
      const { rows } = await tx.query<{ id: string }>(
        sql`UPDATE payment_methods SET is_default = true
             WHERE id = (SELECT id FROM payment_methods WHERE organization_id = ${organizationId}::uuid
                          ORDER BY created_at DESC, id DESC LIMIT 1)
             RETURNING id`,
      );
      promotedCreditCardId = rows[0]?.id ?? null;
      if (promotedCreditCardId !== null) await tx.query(insertUnpaidInvoicesRetry(organizationId));
    }
    await recordAuditEvent(tx, caller, now, {
      organizationId,
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
