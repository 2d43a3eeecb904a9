/**
 * The doors through which payment provider events come in: Stripe's signed webhooks, and the sandbox's
 * authentication page (the offline stand-in for a card issuer's 3-D Secure page). Both end in `applyProviderEvent`.
 */
import type { AppContext } from '../../app-context.js';
import { systemCaller } from '../../domain/actor.js';
import { BillingError, notFound } from '../../errors.js';
import { ProviderEventSignatureError } from '../../providers/payments/provider-events.js';
import { SandboxPaymentProvider } from '../../providers/payments/sandbox-payment-provider.js';
import { parseStripeWebhook } from '../../providers/payments/stripe-webhook-events.js';
import { applyProviderEvent, type AppliedProviderEvent } from './apply-provider-event.js';

/** A Stripe webhook delivery: verified against STRIPE_WEBHOOK_SECRET, then applied once. */
export async function receiveStripeWebhook(context: AppContext, rawBody: Buffer, signatureHeader: string | undefined): Promise<AppliedProviderEvent> {
  const secret = context.config.stripeWebhookSecret;
  if (context.config.paymentProvider !== 'stripe') throw notFound('Route');
  // 503 rather than 4xx: Stripe retries for days, so events wait until the operator sets the secret.
  if (secret === null) throw new BillingError('webhook_not_configured', 503, 'STRIPE_WEBHOOK_SECRET is not set: provider events cannot be verified');
  let event;
  try {
    event = parseStripeWebhook(rawBody, signatureHeader, secret);
  } catch (error) {
    if (error instanceof ProviderEventSignatureError) throw new BillingError('invalid_signature', 400, error.message);
    if (error instanceof SyntaxError) throw new BillingError('invalid_event', 400, 'The body is not a JSON event');
    throw error;
  }
  const applied = await applyProviderEvent(context, systemCaller('stripe_webhook'), event);
  context.logger.info({ provider: 'stripe', eventId: event.id, eventType: event.type, ...applied }, 'provider event received');
  return applied;
}

function sandboxOf(context: AppContext): SandboxPaymentProvider {
  if (!(context.payments instanceof SandboxPaymentProvider)) throw notFound('Route');
  return context.payments;
}

/** What the sandbox's authentication page shows about a pending charge; 404 when none waits under that reference. */
export function describeSandboxAuthentication(context: AppContext, chargeReference: string): { amountMinor: bigint; currency: string; description: string } {
  const pending = sandboxOf(context).pendingAuthentication(chargeReference);
  if (!pending) throw notFound('Payment awaiting authentication');
  return pending;
}

/** The customer completes (or fails) the sandbox's authentication: the charge's outcome is applied to its invoice. */
export async function completeSandboxAuthentication(
  context: AppContext,
  chargeReference: string,
  outcome: 'succeeded' | 'failed',
): Promise<AppliedProviderEvent> {
  const sandbox = sandboxOf(context);
  const event = sandbox.completeAuthentication(chargeReference, outcome);
  if (event === null) throw notFound('Payment awaiting authentication');
  try {
    return await applyProviderEvent(context, systemCaller('sandbox_authentication'), event);
  } catch (error) {
    // Nothing was recorded (one transaction): the page stays usable, as a provider would redeliver its event.
    sandbox.reopenAuthentication(chargeReference);
    throw error;
  }
}
