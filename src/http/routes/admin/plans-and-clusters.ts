/** Operator API: plan catalogue, clusters, usage events, test clock. */
import { Type, type FastifyPluginAsyncTypebox, type Static } from '@fastify/type-provider-typebox';
import type { Cluster } from '../../../billing/costs/cluster.js';
import { deactivateCluster } from '../../../billing/costs/deactivate-cluster.js';
import { listClusters } from '../../../billing/costs/list-clusters.js';
import { MAX_USAGE_EVENTS_PER_BATCH, recordUsageEvents, USAGE_EVENTS_REJECTED } from '../../../billing/costs/record-usage-events.js';
import { registerCluster } from '../../../billing/costs/register-cluster.js';
import { listPlans } from '../../../billing/plans/list-plans.js';
import type { Plan } from '../../../billing/plans/plan.js';
import { putPlan } from '../../../billing/plans/put-plan.js';
import { readTestClock, setTestClock } from '../../../billing/status/set-test-clock.js';
import { toSafeInteger } from '../../../domain/money.js';
import { errorResponses, ListSchema, nullable, OrganizationIdParams } from '../../schemas.js';
import { callerOf, sendProblem, type ProblemRenderer } from '../../surface.js';
import { renderAdminProblem } from './admin-errors.js';

const tags = ['Operator'];
const operatorOnly = { auth: 'operator' as const };
/** Minor units as a JSON integer: never beyond what a JSON number holds exactly. */
const MinorUnits = (description: string) => Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, description });
/** A usage batch of 1,000 events is larger than the default 64 KiB body. */
const USAGE_BODY_LIMIT_BYTES = 1024 * 1024;

/** As the rest of the operator API, except that a rejected usage batch keeps its 422 (well-formed, but naming unknown clusters). */
const renderProblem: ProblemRenderer = (problem, request) =>
  renderAdminProblem(problem.code === USAGE_EVENTS_REJECTED ? { ...problem, kind: 'other' } : problem, request);

const PlanKind = Type.Union([Type.Literal('credits'), Type.Literal('invoiced')], {
  description: 'credits: usage is paid from the credit balance; invoiced: invoiced monthly and charged to the default card',
});

const CreditGrantMode = Type.Union([Type.Literal('once'), Type.Literal('every_period')], {
  description: 'once: when an organization joins the plan (once per organization and plan, ever); every_period: also at the start of every period on it',
});

const PlanSchema = Type.Object(
  {
    code: Type.String(),
    name: Type.String(),
    monthly_price_in_cents: Type.Integer(),
    currency: Type.String(),
    kind: PlanKind,
    trial_days: Type.Integer(),
    credit_grant_in_cents: Type.Integer({ description: 'Credits granted to organizations on the plan (credits plans), in minor units' }),
    credit_grant_mode: CreditGrantMode,
    selectable: Type.Boolean({ description: "Organizations may switch to this plan themselves on the billing page" }),
    created_at: Type.String({ format: 'date-time' }),
    updated_at: Type.String({ format: 'date-time' }),
  },
  { title: 'Plan' },
);

const PlanRequest = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 100 }),
    monthly_price_in_cents: MinorUnits('Monthly price in minor units of currency'),
    currency: Type.String({ pattern: '^[A-Z]{3}$', examples: ['USD'] }),
    kind: PlanKind,
    trial_days: Type.Integer({ minimum: 0, maximum: 365 }),
    credit_grant_in_cents: Type.Optional(
      MinorUnits('Credits granted to organizations on this credits plan, in minor units (sign-up credit); default 0, none'),
    ),
    credit_grant_mode: Type.Optional(CreditGrantMode),
    selectable: Type.Optional(
      Type.Boolean({ description: 'Organizations may switch to this plan themselves on the billing page; left out: unchanged (false for a new plan)' }),
    ),
  },
  { title: 'PlanRequest', additionalProperties: false },
);

const ClusterSchema = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    organization_id: Type.String({ format: 'uuid' }),
    name: Type.String(),
    hourly_price_per_node_in_cents: Type.Integer(),
    min_nodes: Type.Integer(),
    max_nodes: Type.Integer(),
    fixed_monthly_in_cents: Type.Integer(),
    currency: Type.String(),
    active_from: Type.String({ format: 'date-time' }),
    active_until: nullable(Type.String({ format: 'date-time' })),
    created_at: Type.String({ format: 'date-time' }),
  },
  { title: 'Cluster' },
);

const ClusterRequest = Type.Object(
  {
    id: Type.Optional(Type.String({ format: 'uuid', description: 'Your id for the cluster; a retry with the same id and values registers it once' })),
    name: Type.String({ minLength: 1, maxLength: 100 }),
    hourly_price_per_node_in_cents: MinorUnits('Price of one node for one hour'),
    min_nodes: Type.Integer({ minimum: 0, maximum: 1_000_000 }),
    max_nodes: Type.Integer({ minimum: 1, maximum: 1_000_000 }),
    fixed_monthly_in_cents: Type.Optional(MinorUnits('Fixed part of a whole month, prorated for part of one; default 0')),
    currency: Type.Optional(Type.String({ pattern: '^[A-Z]{3}$', description: "Default and only accepted value: the organization's currency" })),
    active_from: Type.Optional(Type.String({ format: 'date-time', description: 'Default: now' })),
  },
  { title: 'ClusterRequest', additionalProperties: false },
);

const ClusterParams = Type.Object({
  organizationId: OrganizationIdParams.properties.organizationId,
  clusterId: Type.String({ format: 'uuid' }),
});

const UsageEvent = Type.Object(
  {
    id: Type.String({ minLength: 1, maxLength: 255, description: 'Your id of the event: an event sent again counts once' }),
    organization_id: Type.String({ format: 'uuid' }),
    cluster_id: Type.String({ format: 'uuid' }),
    metric: Type.Literal('node_hours'),
    quantity: Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER }),
    occurred_at: Type.String({ format: 'date-time' }),
  },
  { additionalProperties: false },
);

const UsageBatchResult = Type.Object(
  {
    accepted: Type.Integer({ description: 'Events recorded now (late ones included)' }),
    duplicates: Type.Integer({ description: 'Events whose id was already recorded: they change nothing' }),
    late: Type.Integer({ description: 'Accepted events for a period already invoiced: billed on the next invoice as late usage' }),
    rejected: Type.Array(
      Type.Object({
        index: Type.Integer({ description: 'Position of the event in the batch, from 0' }),
        id: Type.String(),
        reason: Type.Union([Type.Literal('in_the_future'), Type.Literal('before_cluster_start'), Type.Literal('after_cluster_end')]),
        message: Type.String(),
      }),
      { description: 'Events not recorded, in batch order; the other events of the batch are kept' },
    ),
  },
  { title: 'UsageBatchResult' },
);

const ClockSchema = Type.Object({ now: Type.String({ format: 'date-time' }) }, { title: 'TestClock' });
const clockDescription = 'Only when Bursar runs with BURSAR_TEST_CLOCK=1; otherwise 404 test_clock_disabled.';

function toPlanJson(plan: Plan): Static<typeof PlanSchema> {
  return {
    code: plan.code,
    name: plan.name,
    monthly_price_in_cents: toSafeInteger(plan.monthlyPriceMinor),
    currency: plan.currency,
    kind: plan.kind,
    trial_days: plan.trialDays,
    credit_grant_in_cents: toSafeInteger(plan.creditGrantMinor),
    credit_grant_mode: plan.creditGrantMode,
    selectable: plan.selectable,
    created_at: plan.createdAt.toISOString(),
    updated_at: plan.updatedAt.toISOString(),
  };
}

function toClusterJson(cluster: Cluster): Static<typeof ClusterSchema> {
  return {
    id: cluster.id,
    organization_id: cluster.organizationId,
    name: cluster.name,
    hourly_price_per_node_in_cents: toSafeInteger(cluster.pricing.hourlyPricePerNodeMinor),
    min_nodes: cluster.pricing.minNodes,
    max_nodes: cluster.pricing.maxNodes,
    fixed_monthly_in_cents: toSafeInteger(cluster.pricing.fixedMonthlyMinor),
    currency: cluster.pricing.currency,
    active_from: cluster.activeFrom.toISOString(),
    active_until: cluster.activeUntil?.toISOString() ?? null,
    created_at: cluster.createdAt.toISOString(),
  };
}

export const adminPlanAndClusterRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.setErrorHandler((error, request, reply) => sendProblem(error, request, reply, renderProblem));

  app.put(
    '/admin/plans/:code',
    {
      config: operatorOnly,
      schema: {
        operationId: 'adminPutPlan',
        summary: 'Create or update a plan of the catalogue',
        description: 'Codes: the reference API plan names (FREE, TEAM, …, ENTERPRISE_2025) or your own. 201 when created, 200 when updated.',
        tags,
        params: Type.Object({ code: Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$' }) }),
        body: PlanRequest,
        response: { 200: PlanSchema, 201: PlanSchema, ...errorResponses(400, 401, 403, 409, 413) },
      },
    },
    async (request, reply) => {
      const body = request.body;
      const { plan, created } = await putPlan(request.bursar, callerOf(request), {
        code: request.params.code,
        name: body.name,
        monthlyPriceMinor: BigInt(body.monthly_price_in_cents),
        currency: body.currency,
        kind: body.kind,
        trialDays: body.trial_days,
        creditGrantMinor: body.credit_grant_in_cents === undefined ? undefined : BigInt(body.credit_grant_in_cents),
        creditGrantMode: body.credit_grant_mode,
        selectable: body.selectable,
      });
      return reply.status(created ? 201 : 200).send(toPlanJson(plan));
    },
  );

  app.get(
    '/admin/plans',
    {
      config: operatorOnly,
      schema: {
        operationId: 'adminListPlans',
        tags,
        response: { 200: ListSchema(PlanSchema), ...errorResponses(401, 403) },
      },
    },
    async (request) => ({ results: (await listPlans(request.bursar, callerOf(request))).map(toPlanJson) }),
  );

  app.post(
    '/admin/organizations/:organizationId/clusters',
    {
      config: operatorOnly,
      schema: {
        operationId: 'adminRegisterCluster',
        summary: 'Register a billable cluster with its pricing',
        description: 'The pricing never changes afterwards (register a new cluster for a new price). 201 when registered, 200 for a replay with the same id and values.',
        tags,
        params: OrganizationIdParams,
        body: ClusterRequest,
        response: { 200: ClusterSchema, 201: ClusterSchema, ...errorResponses(400, 401, 403, 404, 409, 413) },
      },
    },
    async (request, reply) => {
      const body = request.body;
      const { cluster, created } = await registerCluster(request.bursar, callerOf(request), {
        organizationId: request.params.organizationId,
        id: body.id,
        name: body.name,
        hourlyPricePerNodeMinor: BigInt(body.hourly_price_per_node_in_cents),
        minNodes: body.min_nodes,
        maxNodes: body.max_nodes,
        fixedMonthlyMinor: BigInt(body.fixed_monthly_in_cents ?? 0),
        currency: body.currency,
        activeFrom: body.active_from === undefined ? undefined : new Date(body.active_from),
      });
      return reply.status(created ? 201 : 200).send(toClusterJson(cluster));
    },
  );

  app.patch(
    '/admin/organizations/:organizationId/clusters/:clusterId',
    {
      config: operatorOnly,
      schema: {
        operationId: 'adminDeactivateCluster',
        summary: 'Deactivate a cluster',
        description: 'Ends its billing at active_until (default: now). An end may move earlier, never later (409).',
        tags,
        params: ClusterParams,
        body: Type.Object({ active_until: Type.Optional(Type.String({ format: 'date-time' })) }, { additionalProperties: false }),
        response: { 200: ClusterSchema, ...errorResponses(400, 401, 403, 404, 409) },
      },
    },
    async (request) => {
      const activeUntil = request.body.active_until;
      const cluster = await deactivateCluster(request.bursar, callerOf(request), {
        organizationId: request.params.organizationId,
        clusterId: request.params.clusterId,
        activeUntil: activeUntil === undefined ? undefined : new Date(activeUntil),
      });
      return toClusterJson(cluster);
    },
  );

  app.get(
    '/admin/organizations/:organizationId/clusters',
    {
      config: operatorOnly,
      schema: {
        operationId: 'adminListClusters',
        tags,
        params: OrganizationIdParams,
        response: { 200: ListSchema(ClusterSchema), ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => ({
      results: (await listClusters(request.bursar, callerOf(request), request.params.organizationId)).map(toClusterJson),
    }),
  );

  app.post(
    '/admin/usage-events',
    {
      config: operatorOnly,
      bodyLimit: USAGE_BODY_LIMIT_BYTES,
      schema: {
        operationId: 'adminRecordUsageEvents',
        summary: 'Record a batch of usage events',
        description:
          'An event naming an unknown cluster or a cluster of another organization rejects the whole batch (422, fields name each bad event by index). Otherwise each event is checked against its cluster\'s life and the clock: one dated before the cluster\'s active_from, at or after its active_until, or more than 5 minutes in the future is refused and named in `rejected`; the others are recorded. An id already recorded counts as a duplicate. An event for a period already invoiced is late usage, billed on the next invoice.',
        tags,
        body: Type.Object(
          { events: Type.Array(UsageEvent, { minItems: 1, maxItems: MAX_USAGE_EVENTS_PER_BATCH }) },
          { additionalProperties: false },
        ),
        response: {
          200: UsageBatchResult,
          ...errorResponses(400, 401, 403, 413, 422),
        },
      },
    },
    async (request) =>
      recordUsageEvents(
        request.bursar,
        callerOf(request),
        request.body.events.map((event) => ({
          id: event.id,
          organizationId: event.organization_id,
          clusterId: event.cluster_id,
          metric: event.metric,
          quantity: BigInt(event.quantity),
          occurredAt: new Date(event.occurred_at),
        })),
      ),
  );

  app.get(
    '/admin/clock',
    {
      config: operatorOnly,
      schema: { operationId: 'adminGetTestClock', description: clockDescription, tags, response: { 200: ClockSchema, ...errorResponses(401, 403, 404) } },
    },
    async (request) => ({ now: readTestClock(request.bursar, callerOf(request)).toISOString() }),
  );

  app.post(
    '/admin/clock',
    {
      config: operatorOnly,
      schema: {
        operationId: 'adminSetTestClock',
        summary: 'Set the business time of this process',
        description: `${clockDescription} The clock then runs on from the time set.`,
        tags,
        body: Type.Object({ now: Type.String({ format: 'date-time' }) }, { additionalProperties: false }),
        response: { 200: ClockSchema, ...errorResponses(400, 401, 403, 404, 409) },
      },
    },
    async (request) => ({ now: (await setTestClock(request.bursar, callerOf(request), new Date(request.body.now))).toISOString() }),
  );
};
