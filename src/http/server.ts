import { randomUUID } from 'node:crypto';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import cookie from '@fastify/cookie';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import sql from 'sql-template-tag';
import { SettableClock } from '../clock.js';
import { followTestClockSetting } from '../db/test-clock-setting.js';
import type { AppContext } from '../app-context.js';
import type { Actor } from '../domain/actor.js';
import { forbidden } from '../errors.js';
import { hashesEqual, sha256Hex } from '../secrets.js';
import { Authenticator } from './authenticate.js';
import { narrowDateTimeFormat } from './date-time-format.js';
import { Metrics } from './metrics.js';
import { ignoreContentTypeOfEmptyBodies } from './empty-bodies.js';
import { refuseUnstorableStrings } from './storable-strings.js';
import { sendProblem } from './surface.js';
import { renderDefaultProblem } from './routes/organization-billing-errors.js';
import { registerRoutes } from './routes/index.js';

export type AuthMode = 'public' | 'operator' | 'user' | 'metrics';

declare module 'fastify' {
  interface FastifyRequest {
    actor: Actor;
    surface: string;
    bursar: AppContext;
    /** The machine code of the error answered, for the request log (a 401's says why the credentials were refused). */
    errorCode: string | null;
  }
  interface FastifyContextConfig {
    /**
     * Who may call the route: anyone, operators only, any authenticated caller (checked further by the core), or
     * operators and the holder of the metrics token.
     */
    auth?: AuthMode;
  }
}

export const BODY_LIMIT_BYTES = 64 * 1024;

export async function buildServer(context: AppContext): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: context.logger as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: BODY_LIMIT_BYTES,
    // A caller's x-request-id is kept when it is a plain short token (it lands in logs and the audit trail).
    requestIdHeader: false,
    genReqId: (raw) => {
      const header = raw.headers['x-request-id'];
      return typeof header === 'string' && /^[\w.:-]{1,128}$/.test(header) ? header : randomUUID();
    },
    ajv: { customOptions: { allErrors: true, coerceTypes: false, removeAdditional: false }, onCreate: narrowDateTimeFormat },
    // User ids in paths (members) are up to 255 characters.
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 255 },
    // A path that is not valid percent-encoded UTF-8 (a lone surrogate's bytes, say) matches no route: default error style.
    frameworkErrors: (error, request, reply) => sendProblem(error, request, reply, renderDefaultProblem),
  }).withTypeProvider<TypeBoxTypeProvider>();

  const authenticator = new Authenticator(context);
  const metrics = new Metrics(context);
  const metricsTokenHash = context.config.metricsToken === null ? null : sha256Hex(context.config.metricsToken);
  // Set for every request by the onRequest hook below; null only on public routes.
  app.decorateRequest('actor', null as never);
  app.decorateRequest('surface', 'default');
  app.decorateRequest('bursar', null as never);
  app.decorateRequest('errorCode', null);

  // Bodies are JSON only: anything else is a 415, not a string for the schema to puzzle over.
  app.removeContentTypeParser('text/plain');
  app.addHook('preParsing', ignoreContentTypeOfEmptyBodies);
  await app.register(cookie);
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Bursar',
        version: '0.1.0',
        description: 'Organization billing: profile, addresses, payment methods, credits, costs, invoices and billing status.',
      },
      components: {
        securitySchemes: {
          bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'A user JWT, or the operator token on /admin routes' },
          ApiKeyAuth: { type: 'apiKey', in: 'header', name: 'Authorization', description: 'Organization API token: "Token <token>"' },
          sessionCookie: { type: 'apiKey', in: 'cookie', name: '__session', description: 'A user JWT in the __session cookie' },
        },
      },
      security: [{ bearerAuth: [] }, { ApiKeyAuth: [] }, { sessionCookie: [] }],
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  // The test clock's setting lives in the database: this process follows a move made through any other first.
  const clock = context.clock;
  if (context.config.testClockEnabled && clock instanceof SettableClock) {
    app.addHook('onRequest', async () => {
      await followTestClockSetting(context.database, clock).catch(() => undefined); // a database outage answers on its own
    });
  }

  app.addHook('onRequest', async (request) => {
    request.bursar = context;
    if (request.is404) return; // an unknown route is a 404, whoever asks
    const routeUrl = request.routeOptions.url ?? '';
    const mode = request.routeOptions.config.auth ?? (routeUrl === '/docs' || routeUrl.startsWith('/docs/') ? 'public' : 'user');
    if (mode === 'public') return;
    const bearer = /^bearer\s+(\S+)$/i.exec(request.headers.authorization?.trim() ?? '')?.[1];
    if (mode === 'metrics' && metricsTokenHash !== null && bearer !== undefined && hashesEqual(sha256Hex(bearer), metricsTokenHash)) return;
    request.actor = await authenticator.authenticateFrom(request.ip, {
      authorization: request.headers.authorization,
      sessionCookie: request.cookies.__session,
    });
    if (mode !== 'user' && request.actor.type !== 'operator') throw forbidden('This route is for operators');
  });

  // After each route's schema, before its handler: no string PostgreSQL cannot store gets any further.
  app.addHook('preHandler', refuseUnstorableStrings);

  // One line per request, from safe fields only: no headers, no query string (signed links carry tokens there).
  app.addHook('onResponse', async (request, reply) => {
    // Unknown paths share one label: a scanner must not make a series per path.
    metrics.observeRequest(request.method, request.routeOptions.url ?? '(unmatched)', reply.statusCode, reply.elapsedTime / 1000);
    request.log.info(
      {
        method: request.method,
        route: request.routeOptions.url ?? null,
        path: request.url.split('?')[0],
        status: reply.statusCode,
        durationMs: Math.round(reply.elapsedTime * 10) / 10,
        actor: request.actor?.type ?? null,
        ...(request.errorCode ? { errorCode: request.errorCode } : {}),
      },
      'request',
    );
  });

  app.setErrorHandler((error, request, reply) => sendProblem(error, request, reply, renderDefaultProblem));
  app.setNotFoundHandler((request, reply) =>
    reply.status(404).send({ status: 404, error: 'not_found', message: `No route ${request.method} ${request.url.split('?')[0]}` }),
  );

  app.get('/openapi.json', { schema: { hide: true }, config: { auth: 'public' } }, async () => app.swagger());
  app.get('/healthz', { schema: { hide: true }, config: { auth: 'public' } }, async () => ({ status: 'ok' }));
  app.get('/readyz', { schema: { hide: true }, config: { auth: 'public' } }, async (_request, reply) => {
    try {
      await context.database.query(sql`SELECT 1`);
      return { status: 'ready' };
    } catch {
      return reply.status(503).send({ status: 'unavailable', message: 'database unreachable' });
    }
  });

  app.get('/metrics', { schema: { hide: true }, config: { auth: 'metrics' } }, async (_request, reply) =>
    reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()),
  );

  await app.register(registerRoutes);
  return app as unknown as FastifyInstance;
}
