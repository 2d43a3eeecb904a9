import type { AppContext } from '../../app-context.js';
import { recordAuditEvent, type AuditChanges } from '../../audit/record-audit-event.js';
import { isKnownCurrency } from '../../domain/money.js';
import { BillingError, invalidInput, type FieldError } from '../../errors.js';
import type { Caller } from '../../domain/actor.js';
import { requireOperator } from '../organizations/organization-access.js';
import { creditGrantModes, findPlan, insertPlan, lockPlanCode, planCodePattern, planKinds, updatePlan, type Plan } from './plan.js';
import { planHasSubscriptions } from './plan-subscriptions.js';

export type PutPlanInput = Omit<Plan, 'createdAt' | 'updatedAt' | 'creditGrantMinor' | 'creditGrantMode'> &
  Partial<Pick<Plan, 'creditGrantMinor' | 'creditGrantMode'>>;

export const PLAN_CREATE = 'PLAN_CREATE';
export const PLAN_UPDATE = 'PLAN_UPDATE';
const MAX_TRIAL_DAYS = 365;

/**
 * Creates or updates a plan of the catalogue (operators only), audited without an organization.
 * A price change applies to every period not yet invoiced. The currency of a plan that organizations are or were
 * on cannot change: their credits, clusters and invoices are in that currency.
 */
export async function putPlan(context: AppContext, caller: Caller, input: PutPlanInput): Promise<{ plan: Plan; created: boolean }> {
  requireOperator(caller, 'Plans');
  const errors: FieldError[] = [];
  if (!planCodePattern.test(input.code)) errors.push({ field: 'code', reason: 'pattern', message: 'must be 1 to 64 letters, digits, "_" or "-"' });
  const name = input.name.trim();
  if (name.length < 1 || name.length > 100) errors.push({ field: 'name', reason: 'length', message: 'must be 1 to 100 characters' });
  if (input.monthlyPriceMinor < 0n) errors.push({ field: 'monthlyPriceMinor', reason: 'minimum', message: 'must not be negative' });
  if (!isKnownCurrency(input.currency)) errors.push({ field: 'currency', reason: 'invalid_currency', message: 'must be an ISO 4217 currency code' });
  if (!planKinds.includes(input.kind)) errors.push({ field: 'kind', reason: 'enum', message: 'must be "credits" or "invoiced"' });
  if (!Number.isInteger(input.trialDays) || input.trialDays < 0 || input.trialDays > MAX_TRIAL_DAYS) {
    errors.push({ field: 'trialDays', reason: 'range', message: `must be a whole number from 0 to ${MAX_TRIAL_DAYS}` });
  }
  const creditGrantMinor = input.creditGrantMinor ?? 0n;
  const creditGrantMode = input.creditGrantMode ?? 'once';
  if (creditGrantMinor < 0n) errors.push({ field: 'creditGrantMinor', reason: 'minimum', message: 'must not be negative' });
  if (creditGrantMinor > 0n && input.kind !== 'credits') {
    errors.push({ field: 'creditGrantMinor', reason: 'credits_plan_only', message: 'only a credits plan grants credits' });
  }
  if (!creditGrantModes.includes(creditGrantMode)) errors.push({ field: 'creditGrantMode', reason: 'enum', message: 'must be "once" or "every_period"' });
  if (errors.length > 0) throw invalidInput(errors);

  const now = context.clock.now();
  return context.database.transaction(async (tx) => {
    // Serialises concurrent PUTs of one code (the row may not exist yet, so a row lock is not enough).
    await lockPlanCode(tx, input.code);
    const current = await findPlan(tx, input.code);
    const next: Plan = {
      code: input.code,
      name,
      monthlyPriceMinor: input.monthlyPriceMinor,
      currency: input.currency,
      kind: input.kind,
      trialDays: input.trialDays,
      creditGrantMinor,
      creditGrantMode,
      createdAt: current?.createdAt ?? now,
      updatedAt: now,
    };
    if (current === null) {
      await insertPlan(tx, next);
      await recordAuditEvent(tx, caller, now, {
        organizationId: null,
        type: PLAN_CREATE,
        changes: { code: next.code, name: next.name, monthlyPriceMinor: next.monthlyPriceMinor, currency: next.currency, kind: next.kind, trialDays: next.trialDays,
                   creditGrantMinor: next.creditGrantMinor, creditGrantMode: next.creditGrantMode },
      });
      return { plan: next, created: true };
    }

    const changes = diffPlan(current, next);
    if (Object.keys(changes).length === 0) return { plan: current, created: false };
    if (changes.currency && (await planHasSubscriptions(tx, input.code))) {
      throw new BillingError('plan_in_use', 409, 'The currency of a plan that organizations are or were on cannot change; create a new plan instead');
    }
    await updatePlan(tx, next);
    await recordAuditEvent(tx, caller, now, { organizationId: null, type: PLAN_UPDATE, changes: { code: next.code, ...changes } });
    return { plan: next, created: false };
  });
}

function diffPlan(current: Plan, next: Plan): AuditChanges {
  const changes: AuditChanges = {};
  for (const field of ['name', 'monthlyPriceMinor', 'currency', 'kind', 'trialDays', 'creditGrantMinor', 'creditGrantMode'] as const) {
    if (current[field] !== next[field]) changes[field] = { old: current[field], new: next[field] };
  }
  return changes;
}
