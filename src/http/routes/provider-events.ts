/**
 * Public doors for the payment provider's events: `POST /webhooks/stripe` (with PAYMENT_PROVIDER=stripe; the raw
 * body is verified with the Stripe-Signature header), the sandbox's authentication page (with the sandbox), and the
 * page a customer returns to after authenticating a payment. No credentials: the signature (or the unguessable
 * charge reference of the sandbox) is the proof.
 */
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  completeSandboxAuthentication,
  describeSandboxAuthentication,
  receiveStripeWebhook,
} from '../../billing/provider-events/receive-provider-events.js';
import { formatMoney } from '../../domain/money.js';
import { errorResponses } from '../schemas.js';

const tags = ['Payment provider'];
const WEBHOOK_BODY_LIMIT_BYTES = 1024 * 1024;
const pageHeaders = {
  'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'",
  'cache-control': 'no-store',
};

const Received = Type.Object(
  {
    received: Type.Literal(true),
    duplicate: Type.Boolean({ description: 'The event id was received before: nothing was applied again' }),
    outcome: Type.Union([Type.Literal('applied'), Type.Literal('unchanged'), Type.Literal('ignored'), Type.Literal('no_invoice')]),
  },
  { title: 'ProviderEventReceived' },
);

const ChargeReferenceParams = Type.Object({ reference: Type.String({ pattern: '^pi_sandbox_[0-9a-f]{24}$' }) });

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title><style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem}button{font-size:1rem;padding:.5rem 1rem;margin-right:.5rem}</style></head>
<body><main><h1>${escapeHtml(title)}</h1>${body}</main></body></html>`;
}

const stripeWebhookRoutes: FastifyPluginAsyncTypebox = async (app) => {
  // The signature covers the exact bytes: this route reads its JSON body raw (only inside this plugin).
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer', bodyLimit: WEBHOOK_BODY_LIMIT_BYTES }, (_request, body, done) => done(null, body));
  app.post(
    '/webhooks/stripe',
    {
      config: { auth: 'public' },
      bodyLimit: WEBHOOK_BODY_LIMIT_BYTES,
      schema: {
        operationId: 'receiveStripeWebhook',
        summary: "Stripe's webhook events",
        description:
          'Stripe sends its events here, signed with the endpoint secret (STRIPE_WEBHOOK_SECRET). Each event is applied once ' +
          '(a redelivery answers 200 and changes nothing); types Bursar does not handle are acknowledged and ignored.',
        tags,
        security: [],
        headers: Type.Object({ 'stripe-signature': Type.Optional(Type.String()) }),
        response: { 200: Received, ...errorResponses(400, 503) },
      },
    },
    async (request) => {
      const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
      const applied = await receiveStripeWebhook(request.bursar, body, request.headers['stripe-signature']);
      return { received: true as const, duplicate: applied.duplicate, outcome: applied.outcome };
    },
  );
};

const sandboxAuthenticationRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/sandbox/payments/:reference/authenticate',
    {
      config: { auth: 'public' },
      schema: {
        operationId: 'getSandboxAuthenticationPage',
        summary: "The sandbox's payment authentication page",
        description: 'Stands in for a card issuer\'s 3-D Secure page: the customer completes or fails the authentication of a charge.',
        tags,
        security: [],
        params: ChargeReferenceParams,
        response: { 200: Type.Unsafe<string>({ type: 'string', description: 'An HTML page (text/html)' }), ...errorResponses(400, 404) },
      },
    },
    async (request, reply) => {
      const pending = describeSandboxAuthentication(request.bursar, request.params.reference);
      const action = `/sandbox/payments/${request.params.reference}`;
      const html = page(
        'Authenticate your payment',
        `<p>${escapeHtml(pending.description)}: ${escapeHtml(formatMoney(pending.amountMinor, pending.currency))}.</p>
<p>This is the sandbox payment provider: no bank is asked.</p>
<form method="post" action="${action}/complete"><button type="submit">Complete authentication</button></form>
<form method="post" action="${action}/fail"><button type="submit">Fail authentication</button></form>`,
      );
      return reply.type('text/html; charset=utf-8').headers(pageHeaders).send(html);
    },
  );

  for (const outcome of ['complete', 'fail'] as const) {
    app.post(
      `/sandbox/payments/:reference/${outcome}`,
      {
        config: { auth: 'public' },
        schema: {
          operationId: outcome === 'complete' ? 'completeSandboxAuthentication' : 'failSandboxAuthentication',
          summary: outcome === 'complete' ? 'Complete a sandbox payment authentication' : 'Fail a sandbox payment authentication',
          description:
            outcome === 'complete'
              ? 'The charge succeeds and its invoice is PAID.'
              : 'The charge is refused: a failed attempt of its invoice, retried on the dunning schedule.',
          tags,
          security: [],
          params: ChargeReferenceParams,
          response: { 200: Received, 303: Type.Null({ description: 'To the return page, for a browser (Accept: text/html)' }), ...errorResponses(400, 404) },
        },
      },
      async (request, reply) => {
        const applied = await completeSandboxAuthentication(request.bursar, request.params.reference, outcome === 'complete' ? 'succeeded' : 'failed');
        const body = { received: true as const, duplicate: applied.duplicate, outcome: applied.outcome };
        // A browser's form post goes on to the return page, as after a real issuer's page; an API client gets JSON.
        if ((request.headers.accept ?? '').includes('text/html')) return reply.redirect('/payments/authentication-complete', 303);
        return body;
      },
    );
  }
};

const returnPageRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/payments/authentication-complete',
    {
      config: { auth: 'public' },
      schema: {
        operationId: 'getPaymentAuthenticationReturnPage',
        summary: 'Where the provider sends a customer back after authenticating a payment',
        tags,
        security: [],
        response: { 200: Type.Unsafe<string>({ type: 'string', description: 'An HTML page (text/html)' }) },
      },
    },
    async (_request, reply) =>
      reply
        .type('text/html; charset=utf-8')
        .headers(pageHeaders)
        .send(page('Payment authentication', '<p>Thank you. Your payment is being confirmed; the invoice shows it as paid once it is.</p>')),
  );
};

/** Always routed; the Stripe webhook answers 404 unless PAYMENT_PROVIDER=stripe, the sandbox's pages unless sandbox. */
export const providerEventRoutes: FastifyPluginAsyncTypebox = async (app) => {
  await app.register(stripeWebhookRoutes);
  await app.register(sandboxAuthenticationRoutes);
  await app.register(returnPageRoutes);
};
