/**
 * The customer's billing page (`/portal/…`): server-rendered HTML forms, each write posted, checked (CSRF, the same
 * use case and validation as the API) and answered by a redirect back to the page, or by the page again with the
 * errors next to their fields. No script runs on the page (a Stripe card form is the one exception: Stripe.js).
 */
import { readFileSync } from 'node:fs';
import { Type, type FastifyPluginAsyncTypebox, type TSchema } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { addBillingAddress } from '../../billing/addresses/add-billing-address.js';
import { deleteBillingAddress } from '../../billing/addresses/delete-billing-address.js';
import { updateBillingAddress } from '../../billing/addresses/update-billing-address.js';
import { redeemCreditCode } from '../../billing/credits/redeem-credit-code.js';
import { createInvoiceDownloadLink } from '../../billing/invoices/create-invoice-download-link.js';
import { requestInvoiceArchive } from '../../billing/invoices/request-invoice-archive.js';
import { addCreditCard } from '../../billing/payment-methods/add-credit-card.js';
import { deleteCreditCard } from '../../billing/payment-methods/delete-credit-card.js';
import { setDefaultCreditCard } from '../../billing/payment-methods/set-default-credit-card.js';
import { changePlan } from '../../billing/plans/change-plan.js';
import { getBillingOverview } from '../../billing/portal/get-billing-overview.js';
import { openPortalLink } from '../../billing/portal/open-portal-link.js';
import { updateBillingProfile } from '../../billing/profile/update-billing-profile.js';
import { generateUsageReport } from '../../billing/usage-reports/generate-usage-report.js';
import { toProblem, type Problem } from '../problem.js';
import { billingInfoPatch } from '../routes/organization/billing-info.js';
import { callerOf } from '../surface.js';
import { renderBillingPage, type FormState } from './billing-page.js';
import { messagePage } from './layout.js';
import type { Html } from './html.js';
import { checkCsrf, csrfTokenFor, ownOrigins, setPortalCookie } from './portal-auth.js';
import { formOf, noticeText, toFormState, type FormName, type Notice } from './portal-forms.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The billing page form a POST route serves: its errors come back on the page, next to that form's fields. */
    portalForm?: FormName;
  }
}

const asset = (name: string) => readFileSync(new URL(`./assets/${name}`, import.meta.url));
const stylesheet = asset('portal.css');
const stripeCardScript = asset('stripe-card.js');

const OrganizationParams = Type.Object({ organizationId: Type.String({ maxLength: 64 }) });
const text = (maxLength: number) => Type.String({ maxLength });
const filled = (maxLength: number) => Type.String({ minLength: 1, maxLength });
const formBody = <T extends Record<string, TSchema>>(fields: T) => Type.Object({ _csrf: Type.String({ maxLength: 128 }), ...fields });
const EmptyForm = formBody({});
const IdParams = (name: string, id = Type.String({ format: 'uuid' })) => Type.Object({ organizationId: Type.String({ maxLength: 64 }), [name]: id });
// Billing address ids are seed 003's text ids (`billing_…`), not UUIDs.
const AddressParams = IdParams('addressId', Type.String({ minLength: 1, maxLength: 255 }));

const portalAuth = { auth: 'portal' as const };
const orNull = (value: string | undefined): string | null => (value === undefined || value.trim() === '' ? null : value);

/** The page's security headers: nothing inline, nothing from another host (Stripe's own script and frames only with Stripe). */
function securityHeaders(request: FastifyRequest): Record<string, string> {
  const stripe = request.bursar.config.paymentProvider === 'stripe';
  const formTargets = ["'self'", ...new Set(ownOrigins(request))].join(' ');
  const policy = [
    "default-src 'none'",
    "style-src 'self'",
    "img-src 'self'",
    stripe ? "script-src 'self' https://js.stripe.com" : "script-src 'none'",
    stripe ? 'frame-src https://js.stripe.com https://hooks.stripe.com' : null,
    stripe ? "connect-src 'self' https://api.stripe.com" : null,
    `form-action ${formTargets}`,
    "frame-ancestors 'none'",
    "base-uri 'none'",
  ].filter(Boolean);
  return {
    'content-security-policy': policy.join('; '),
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'DENY',
    // same-origin: no address of this page leaves for another site, and the browser still sends Origin on its forms.
    'referrer-policy': 'same-origin',
    'cache-control': 'no-store',
    'cross-origin-opener-policy': 'same-origin',
  };
}

function sendHtml(reply: FastifyReply, status: number, page: Html): FastifyReply {
  return reply.status(status).type('text/html; charset=utf-8').send(page.markup);
}

function back(reply: FastifyReply, organizationId: string, notice: Notice, anchor: string): FastifyReply {
  return reply.redirect(`/portal/${organizationId}?done=${notice}#${anchor}`, 303);
}

async function renderPage(request: FastifyRequest, reply: FastifyReply, status: number, organizationId: string, formState: FormState | null, notice: string | null) {
  const context = request.bursar;
  const overview = await getBillingOverview(context, callerOf(request), organizationId);
  return sendHtml(
    reply,
    status,
    renderBillingPage({
      organizationId,
      overview,
      csrfToken: csrfTokenFor(context, request.portal!.credential),
      returnUrl: request.portal?.returnUrl ?? null,
      notice,
      formState,
      cardForm: context.config.paymentProvider,
      stripePublishableKey: context.config.stripePublishableKey,
    }),
  );
}

/** An error as a page: a form's errors on the billing page itself, anything else as a page that says what happened. */
async function renderError(error: unknown, request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const problem = toProblem(error);
  request.errorCode = problem.code;
  if (problem.status >= 500) request.log.error({ err: error }, 'unhandled error');
  reply.headers(securityHeaders(request));
  const organizationId = (request.params as { organizationId?: string } | undefined)?.organizationId;
  const form = request.routeOptions.config.portalForm;
  if (request.method === 'POST' && form && organizationId && isFormProblem(problem) && request.portal) {
    try {
      const body = (request.body ?? {}) as Record<string, string>;
      return await renderPage(request, reply, problem.status, organizationId, toFormState(formOf(form), body, problem), null);
    } catch (pageError) {
      return renderError(pageError, request, reply);
    }
  }
  return sendHtml(reply, problem.status, messageFor(problem, request.portal?.returnUrl ?? null));
}

/** Problems the customer can fix in the form (not a missing session, someone else's data or a failure of ours). */
function isFormProblem(problem: Problem): boolean {
  return problem.status < 500 && ![401, 403, 404, 413, 429].includes(problem.status);
}

function messageFor(problem: Problem, returnUrl: string | null): Html {
  switch (problem.status) {
    case 401:
      return messagePage({ title: 'Your billing session has ended', message: 'Sessions last an hour. Open the billing page again from your console.', returnUrl });
    case 403:
      return messagePage({ title: 'Not allowed', message: problem.message, returnUrl });
    case 404:
      return messagePage({ title: 'Not found', message: 'There is no billing page here.', returnUrl });
    case 429:
      return messagePage({ title: 'Too many attempts', message: problem.message, returnUrl, action: 'Wait a moment, then reload the page.' });
    default:
      return problem.status >= 500
        ? messagePage({ title: 'Something went wrong', message: 'The billing page could not be shown. Try again in a moment.', returnUrl })
        : messagePage({ title: 'That did not work', message: problem.message, returnUrl });
  }
}

export const portalRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.addHook('onRequest', async (request) => {
    request.surface = 'portal';
  });
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_request, body, done) => {
    const fields: Record<string, string> = {};
    for (const [name, value] of new URLSearchParams(body as string)) fields[name] = value;
    done(null, fields);
  });
  // Writes: from this site and with the credential's token, before anything else looks at the form.
  app.addHook('preValidation', async (request) => {
    if (request.method === 'POST') checkCsrf(request);
  });
  app.addHook('onSend', async (request, reply) => {
    if (!request.url.startsWith('/portal/assets/')) reply.headers(securityHeaders(request));
  });
  app.setErrorHandler(renderError);
  app.setNotFoundHandler(async (request, reply) => {
    reply.headers(securityHeaders(request));
    return sendHtml(reply, 404, messagePage({ title: 'Not found', message: 'There is no billing page here.', returnUrl: null }));
  });

  const hidden = { hide: true };

  app.get('/assets/portal.css', { schema: hidden, config: { auth: 'public' } }, async (_request, reply) =>
    reply.type('text/css; charset=utf-8').header('cache-control', 'public, max-age=3600').send(stylesheet),
  );
  app.get('/assets/stripe-card.js', { schema: hidden, config: { auth: 'public' } }, async (_request, reply) =>
    reply.type('text/javascript; charset=utf-8').header('cache-control', 'public, max-age=3600').send(stripeCardScript),
  );

  // The link a platform hands its customer (the token is in the query string, which request logs leave out).
  app.get(
    '/enter',
    {
      schema: { ...hidden, querystring: Type.Object({ token: Type.Optional(Type.String({ maxLength: 200 })) }) },
      config: { auth: 'public' },
      // A HEAD (a link checker, a chat preview) must not use up the link.
      exposeHeadRoute: false,
    },
    async (request, reply) => {
      const opened = await openPortalLink(request.bursar, request.query.token ?? '');
      if (opened.outcome === 'opened') {
        setPortalCookie(reply, request.bursar, request, opened.sessionToken);
        return reply.redirect(`/portal/${opened.organizationId}`, 303);
      }
      const returnUrl = opened.outcome === 'unknown' ? null : opened.returnUrl;
      const page =
        opened.outcome === 'used'
          ? messagePage({ title: 'This link has already been used', message: 'A billing link opens once. Ask your console for a new one.', returnUrl })
          : opened.outcome === 'expired'
            ? messagePage({ title: 'This link has expired', message: 'A billing link is valid for 10 minutes. Ask your console for a new one.', returnUrl })
            : messagePage({ title: 'This link is not valid', message: 'Check that the whole link was copied, or ask your console for a new one.', returnUrl });
      request.errorCode = `portal_link_${opened.outcome}`;
      return sendHtml(reply, opened.outcome === 'unknown' ? 404 : 410, page);
    },
  );

  app.get(
    '/:organizationId',
    { schema: { ...hidden, params: OrganizationParams, querystring: Type.Object({ done: Type.Optional(Type.String({ maxLength: 64 })) }) }, config: portalAuth },
    async (request, reply) => renderPage(request, reply, 200, request.params.organizationId, null, noticeText(request.query.done)),
  );

  app.get(
    '/:organizationId/invoices/:invoiceId/pdf',
    { schema: { ...hidden, params: IdParams('invoiceId') }, config: portalAuth },
    async (request, reply) => {
      const url = await createInvoiceDownloadLink(request.bursar, callerOf(request), {
        organizationId: request.params.organizationId,
        invoiceId: request.params.invoiceId as string,
        requestBaseUrl: `${request.protocol}://${request.host}`,
      });
      return reply.redirect(url, 303);
    },
  );

  app.post(
    '/:organizationId/billing-info',
    {
      schema: {
        ...hidden,
        params: OrganizationParams,
        body: formBody({
          first_name: filled(255),
          last_name: filled(255),
          email: Type.String({ minLength: 1, maxLength: 254, format: 'email' }),
          address: filled(511),
          city: filled(128),
          zip: filled(32),
          state: Type.Optional(text(128)),
          country_code: Type.String({ minLength: 2, maxLength: 2 }),
          company: Type.Optional(text(255)),
          vat_number: Type.Optional(text(64)),
        }),
      },
      config: { ...portalAuth, portalForm: 'details' },
    },
    async (request, reply) => {
      const body = request.body;
      await updateBillingProfile(request.bursar, callerOf(request), {
        organization: { id: request.params.organizationId },
        // A textarea sends CRLF line breaks; empty optional fields clear them.
        patch: billingInfoPatch({
          ...body,
          address: body.address.replace(/\r\n?/g, '\n'),
          state: orNull(body.state),
          company: orNull(body.company),
          vat_number: orNull(body.vat_number),
        }),
      });
      return back(reply, request.params.organizationId, 'details-saved', 'details');
    },
  );

  app.post(
    '/:organizationId/addresses',
    {
      schema: {
        ...hidden,
        params: OrganizationParams,
        body: formBody({
          name: filled(255),
          company: filled(255),
          address_line_1: filled(255),
          address_line_2: Type.Optional(text(255)),
          city: filled(128),
          state: filled(128),
          postal_code: filled(32),
          country: Type.String({ minLength: 2, maxLength: 2 }),
        }),
      },
      config: { ...portalAuth, portalForm: 'address' },
    },
    async (request, reply) => {
      const body = request.body;
      await addBillingAddress(request.bursar, callerOf(request), {
        organizationId: request.params.organizationId,
        isDefault: false,
        values: {
          name: body.name,
          company: body.company,
          addressLine1: body.address_line_1,
          addressLine2: orNull(body.address_line_2),
          city: body.city,
          state: body.state,
          postalCode: body.postal_code,
          country: body.country,
        },
      });
      return back(reply, request.params.organizationId, 'address-added', 'addresses');
    },
  );

  app.post(
    '/:organizationId/addresses/:addressId/default',
    { schema: { ...hidden, params: AddressParams, body: EmptyForm }, config: { ...portalAuth, portalForm: 'address-actions' } },
    async (request, reply) => {
      const { organizationId, addressId } = request.params as { organizationId: string; addressId: string };
      await updateBillingAddress(request.bursar, callerOf(request), { organizationId, addressId, values: {}, isDefault: true });
      return back(reply, organizationId, 'address-default', 'addresses');
    },
  );

  app.post(
    '/:organizationId/addresses/:addressId/delete',
    { schema: { ...hidden, params: AddressParams, body: EmptyForm }, config: { ...portalAuth, portalForm: 'address-actions' } },
    async (request, reply) => {
      const { organizationId, addressId } = request.params as { organizationId: string; addressId: string };
      await deleteBillingAddress(request.bursar, callerOf(request), { organizationId, addressId });
      return back(reply, organizationId, 'address-deleted', 'addresses');
    },
  );

  app.post(
    '/:organizationId/cards',
    {
      schema: {
        ...hidden,
        params: OrganizationParams,
        body: formBody({
          token: Type.Optional(text(255)),
          number: Type.Optional(text(64)),
          cvv: Type.Optional(text(8)),
          expiry_month: Type.Optional(Type.String({ pattern: '^(0?[1-9]|1[0-2])?$' })),
          expiry_year: Type.Optional(Type.String({ pattern: '^([0-9]{2}|[0-9]{4})?$' })),
        }),
      },
      config: { ...portalAuth, portalForm: 'card' },
    },
    async (request, reply) => {
      const body = request.body;
      const year = body.expiry_year ? Number(body.expiry_year) : undefined;
      await addCreditCard(request.bursar, callerOf(request), {
        organizationId: request.params.organizationId,
        token: orNull(body.token),
        number: orNull(body.number) ?? undefined,
        cvv: orNull(body.cvv) ?? undefined,
        expiryMonth: body.expiry_month ? Number(body.expiry_month) : undefined,
        // A two-digit year as printed on the card.
        expiryYear: year !== undefined && year < 100 ? 2000 + year : year,
      });
      return back(reply, request.params.organizationId, 'card-added', 'cards');
    },
  );

  app.post(
    '/:organizationId/cards/:creditCardId/default',
    { schema: { ...hidden, params: IdParams('creditCardId'), body: EmptyForm }, config: { ...portalAuth, portalForm: 'card-actions' } },
    async (request, reply) => {
      const { organizationId, creditCardId } = request.params as { organizationId: string; creditCardId: string };
      // The same use case as POST …/creditCard/{id}/default: an unpaid invoice is charged to the new default.
      await setDefaultCreditCard(request.bursar, callerOf(request), organizationId, creditCardId);
      return back(reply, organizationId, 'card-default', 'cards');
    },
  );

  app.post(
    '/:organizationId/cards/:creditCardId/delete',
    { schema: { ...hidden, params: IdParams('creditCardId'), body: EmptyForm }, config: { ...portalAuth, portalForm: 'card-actions' } },
    async (request, reply) => {
      const { organizationId, creditCardId } = request.params as { organizationId: string; creditCardId: string };
      await deleteCreditCard(request.bursar, callerOf(request), { organizationId, creditCardId });
      return back(reply, organizationId, 'card-deleted', 'cards');
    },
  );

  app.post(
    '/:organizationId/credit-code',
    { schema: { ...hidden, params: OrganizationParams, body: formBody({ code: filled(255) }) }, config: { ...portalAuth, portalForm: 'credit-code' } },
    async (request, reply) => {
      await redeemCreditCode(request.bursar, callerOf(request), { organizationId: request.params.organizationId, code: request.body.code.trim() });
      return back(reply, request.params.organizationId, 'code-redeemed', 'credits');
    },
  );

  app.post(
    '/:organizationId/plan',
    { schema: { ...hidden, params: OrganizationParams, body: formBody({ plan: filled(64) }) }, config: { ...portalAuth, portalForm: 'plan' } },
    async (request, reply) => {
      await changePlan(request.bursar, callerOf(request), { organizationId: request.params.organizationId, plan: request.body.plan, selectableOnly: true });
      return back(reply, request.params.organizationId, 'plan-changed', 'plan');
    },
  );

  app.post(
    '/:organizationId/invoices/email',
    { schema: { ...hidden, params: OrganizationParams, body: EmptyForm }, config: { ...portalAuth, portalForm: 'email-invoices' } },
    async (request, reply) => {
      await requestInvoiceArchive(request.bursar, callerOf(request), {
        organizationId: request.params.organizationId,
        requestBaseUrl: `${request.protocol}://${request.host}`,
      });
      return back(reply, request.params.organizationId, 'invoices-emailed', 'invoices');
    },
  );

  app.post(
    '/:organizationId/usage-report',
    {
      schema: { ...hidden, params: OrganizationParams, body: formBody({ from: Type.String({ format: 'date' }), to: Type.String({ format: 'date' }) }) },
      config: { ...portalAuth, portalForm: 'usage-report' },
    },
    async (request, reply) => {
      // Whole UTC days: from the first day's start to the end of the last day.
      const to = new Date(`${request.body.to}T00:00:00.000Z`);
      to.setUTCDate(to.getUTCDate() + 1);
      const links = await generateUsageReport(request.bursar, callerOf(request), {
        organizationId: request.params.organizationId,
        from: `${request.body.from}T00:00:00.000Z`,
        to: to.toISOString(),
        expirationSeconds: 3600,
        requestBaseUrl: `${request.protocol}://${request.host}`,
      });
      return reply.redirect(links.reportUrl, 303);
    },
  );
};
