/**
 * Seed 000/004: plan changes, current costs and billing status.
 * Money: `*_in_cents` are integer minor units of `currency_code` (whatever its decimals); `total`-style numbers are
 * the same amounts in major units, derived from them.
 */
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { getClusterCurrentCost } from '../../../billing/costs/get-cluster-current-cost.js';
import { getOrganizationCurrentCost } from '../../../billing/costs/get-organization-current-cost.js';
import { changePlan } from '../../../billing/plans/change-plan.js';
import { getBillingStatus } from '../../../billing/status/get-billing-status.js';
import { BILLING_RESTRICTIONS, type BillingRestriction } from '../../../domain/billing-status.js';
import { toMajorUnitsNumber, toSafeInteger } from '../../../domain/money.js';
import { errorResponses, nullable, OrganizationIdParams } from '../../schemas.js';
import { callerOf } from '../../surface.js';

const tags = ['Billing'];

const planCodeDescription =
  'A plan of the catalogue: FREE, TEAM, TEAM_YEARLY, ENTERPRISE, ENTERPRISE_YEARLY, PROFESSIONAL, BUSINESS, USER_2025, TEAM_2025, BUSINESS_2025, ENTERPRISE_2025 or an operator-defined code';
const PlanCode = Type.String({ description: planCodeDescription, examples: ['TEAM_2025'] });

const OrganizationChangePlanRequest = Type.Object(
  { plan: Type.String({ minLength: 1, maxLength: 64, description: planCodeDescription, examples: ['TEAM_2025'] }) },
  { title: 'OrganizationChangePlanRequest', additionalProperties: false },
);

const restrictionCode = (description: string) =>
  Type.Unsafe<BillingRestriction>({ type: 'string', enum: [...BILLING_RESTRICTIONS], description });

const deploymentRestrictionDescription =
  'null: no restriction. NO_CREDIT_CARD: an invoiced plan without a usable credit card; managed clusters are blocked, demo resources allowed. ' +
  'INVOICE_UNPAID: an invoice unpaid for more than a week; NO_CREDIT_LEFT: a credits plan with no credit left; both block every deployment.';

const Organization = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    created_at: Type.String({ format: 'date-time' }),
    updated_at: Type.String({ format: 'date-time' }),
    name: Type.String({ description: 'name is case insensitive' }),
    description: nullable(Type.String()),
    plan: PlanCode,
    website_url: nullable(Type.String()),
    repository: nullable(Type.String()),
    logo_url: nullable(Type.String()),
    icon_url: nullable(Type.String()),
    admin_emails: nullable(Type.Array(Type.String())),
    billing_deployment_restriction: nullable(
      restrictionCode(deploymentRestrictionDescription),
    ),
    organization_plan: Type.Object({ plan: PlanCode }),
  },
  { title: 'Organization' },
);

const Cost = Type.Object(
  {
    total_in_cents: Type.Integer({ examples: [30000], description: 'Integer minor units of currency_code' }),
    total: Type.Number({ examples: [300], description: 'total_in_cents in major units' }),
    currency_code: Type.String({ examples: ['USD'] }),
  },
  { title: 'Cost' },
);

const CostRange = Type.Object(
  {
    total_in_cents: Type.Integer({ examples: [21000], description: 'Cost so far this period: what the invoice would charge if the period ended now' }),
    total: Type.Number({ examples: [210] }),
    min_cost_in_cents: Type.Integer({ examples: [15000], description: 'The least the cluster costs for the whole current period' }),
    min_cost: Type.Number({ examples: [150] }),
    max_cost_in_cents: Type.Integer({ examples: [30000], description: 'The most the cluster costs for the whole current period: its invoice never charges more' }),
    max_cost: Type.Number({ examples: [300] }),
    currency_code: Type.String({ examples: ['USD'] }),
  },
  { title: 'CostRange' },
);

const OrganizationCurrentCost = Type.Object(
  {
    plan: PlanCode,
    remaining_trial_day: Type.Integer({ description: 'number of days remaining before the end of the trial period (0 without a trial)' }),
    renewal_at: nullable(Type.String({ format: 'date-time', description: 'date when the current plan will be renewed (the end of the current billing period)' })),
    cost: Cost,
    remaining_credits: Type.Object(Cost.properties, { description: 'The credit balance (not part of the reference API)' }),
  },
  { title: 'OrganizationCurrentCost' },
);

const BillingStatus = Type.Object(
  {
    is_valid: Type.Boolean(),
    message: Type.String(),
    reason: nullable(
      restrictionCode('Why deployments are restricted, as a stable code (the billing_deployment_restriction of the Organization); null when nothing restricts them'),
    ),
  },
  { title: 'BillingStatus' },
);

const ClusterParams = Type.Object({
  organizationId: OrganizationIdParams.properties.organizationId,
  clusterId: Type.String({ format: 'uuid', description: 'Cluster ID' }),
});

function cost(amountMinor: bigint, currency: string) {
  return { total_in_cents: toSafeInteger(amountMinor), total: toMajorUnitsNumber(amountMinor, currency), currency_code: currency };
}

export const planAndCostRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.post(
    '/organization/:organizationId/changePlan',
    {
      schema: {
        operationId: 'changePlan',
        summary: 'Change organization plan',
        description:
          'Moves the organization to another plan; the next invoice prorates both. An invoiced plan needs a billing e-mail, address, city, zip and country_code (400 billing_profile_incomplete names the missing ones). The same plan again changes nothing.',
        tags,
        params: OrganizationIdParams,
        body: OrganizationChangePlanRequest,
        response: { 200: Organization, ...errorResponses(400, 401, 403, 404, 409, 413) },
      },
    },
    async (request) => {
      const organization = await changePlan(request.bursar, callerOf(request), {
        organizationId: request.params.organizationId,
        plan: request.body.plan,
      });
      return {
        id: organization.id,
        created_at: organization.createdAt.toISOString(),
        updated_at: organization.updatedAt.toISOString(),
        name: organization.name,
        description: null,
        plan: organization.plan,
        website_url: null,
        repository: null,
        logo_url: null,
        icon_url: null,
        admin_emails: null,
        billing_deployment_restriction: organization.deploymentRestriction,
        organization_plan: { plan: organization.plan },
      };
    },
  );

  app.get(
    '/organization/:organizationId/cluster/:clusterId/currentCost',
    {
      schema: {
        operationId: 'getClusterCurrentCost',
        summary: 'Get cluster current cost',
        description:
          'The cost range of the cluster for the current billing period (a UTC calendar month). What the invoice charges for the cluster never exceeds the max.',
        tags,
        params: ClusterParams,
        response: { 200: CostRange, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const result = await getClusterCurrentCost(request.bursar, callerOf(request), request.params);
      const currency = result.currency;
      return {
        ...cost(result.totalMinor, currency),
        min_cost_in_cents: toSafeInteger(result.minMinor),
        min_cost: toMajorUnitsNumber(result.minMinor, currency),
        max_cost_in_cents: toSafeInteger(result.maxMinor),
        max_cost: toMajorUnitsNumber(result.maxMinor, currency),
      };
    },
  );

  app.get(
    '/organization/:organizationId/currentCost',
    {
      schema: {
        operationId: 'getOrganizationCurrentCost',
        summary: 'Get organization current cost',
        description: 'The cost of the current billing period so far: the plan fee prorated to now (free during a trial) plus every cluster so far.',
        tags,
        params: OrganizationIdParams,
        response: { 200: OrganizationCurrentCost, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const result = await getOrganizationCurrentCost(request.bursar, callerOf(request), request.params.organizationId);
      return {
        plan: result.plan,
        remaining_trial_day: result.remainingTrialDays,
        renewal_at: result.renewalAt.toISOString(),
        cost: cost(result.totalMinor, result.currency),
        remaining_credits: cost(result.creditBalanceMinor, result.currency),
      };
    },
  );

  app.get(
    '/organization/:organizationId/billingStatus',
    {
      schema: {
        operationId: 'getOrganizationBillingStatus',
        summary: 'Get organization billing status',
        description:
          'is_valid is false for an invoiced plan with an invoice unpaid for more than a week (reason INVOICE_UNPAID), and for a credits plan with no credit left (reason NO_CREDIT_LEFT); message says why. An invoiced plan without a usable card stays valid with reason NO_CREDIT_CARD.',
        tags,
        params: OrganizationIdParams,
        response: { 200: BillingStatus, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const status = await getBillingStatus(request.bursar, callerOf(request), request.params.organizationId);
      return { is_valid: status.isValid, message: status.message, reason: status.reason };
    },
  );
};
