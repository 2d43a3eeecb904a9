import type { AppSecrets } from '../../secrets.js';
import type { Clock } from '../../clock.js';
import { publicBaseUrl, type Config } from '../../config.js';
import type { PaymentProvider } from './payment-provider.js';
import { SandboxPaymentProvider } from './sandbox-payment-provider.js';
import { StripePaymentProvider } from './stripe-payment-provider.js';

/** PAYMENT_PROVIDER picks the implementation: `sandbox` (default, no network) or `stripe`. */
export function createPaymentProvider(config: Config, secrets: AppSecrets, clock: Clock): PaymentProvider {
  if (config.paymentProvider === 'stripe') {
    if (!config.stripeSecretKey) throw new Error('STRIPE_SECRET_KEY is required for the stripe provider');
    return new StripePaymentProvider({ secretKey: config.stripeSecretKey, apiBaseUrl: config.stripeApiBaseUrl ?? undefined });
  }
  return new SandboxPaymentProvider({
    fingerprintSecret: secrets.cardFingerprintKey,
    clock,
    // Read at each charge: the public URL may be set after start (tests listen on a free port).
    authenticationUrl: (chargeReference) => `${publicBaseUrl(config)}/sandbox/payments/${chargeReference}/authenticate`,
  });
}
