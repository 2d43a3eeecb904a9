/**
 * Operators: the tax-rate catalogue (create or replace, list, delete), audited without an organization. A rate
 * deleted or changed leaves issued invoices as they are: each carries a copy of the rates it used.
 */
import type { AppContext } from '../../app-context.js';
import { recordAuditEvent, type AuditChanges } from '../../audit/record-audit-event.js';
import type { Caller } from '../../domain/actor.js';
import { normalizeCountryCode } from '../../domain/billing-profile.js';
import { normalizePercentage } from '../../domain/tax.js';
import { invalidInput, notFound, type FieldError } from '../../errors.js';
import { requireOperator } from '../organizations/organization-access.js';
import { deleteTaxRateRow, findTaxRate, listTaxRates, lockTaxRateCode, taxRateCodePattern, upsertTaxRate, type StoredTaxRate } from './tax-rate.js';

export const TAX_RATE_CREATE = 'TAX_RATE_CREATE';
export const TAX_RATE_UPDATE = 'TAX_RATE_UPDATE';
export const TAX_RATE_DELETE = 'TAX_RATE_DELETE';

export interface PutTaxRateInput {
  code: string;
  country: string;
  region: string | null;
  percentage: string;
  name: string;
}

function validated(input: PutTaxRateInput): Omit<StoredTaxRate, 'createdAt' | 'updatedAt'> {
  const errors: FieldError[] = [];
  if (!taxRateCodePattern.test(input.code)) errors.push({ field: 'code', reason: 'pattern', message: 'must be 1 to 64 letters, digits, "_" or "-"' });
  const country = normalizeCountryCode(input.country.trim());
  if (country === null) errors.push({ field: 'country', reason: 'invalid_country', message: 'must be an ISO 3166-1 alpha-2 country code' });
  const region = input.region?.trim().toUpperCase() || null;
  if (region !== null && !/^[A-Z0-9]{1,3}$/.test(region)) {
    errors.push({ field: 'region', reason: 'pattern', message: 'must be a state or province code of 1 to 3 letters or digits (NY, QC)' });
  }
  const percentage = normalizePercentage(input.percentage.trim());
  if (percentage === null) {
    errors.push({ field: 'percentage', reason: 'format', message: 'must be a decimal string from "0" to "100" with up to 4 decimals ("20", "8.875")' });
  }
  const name = input.name.trim();
  if (name.length < 1 || name.length > 100) errors.push({ field: 'name', reason: 'length', message: 'must be 1 to 100 characters' });
  if (errors.length > 0) throw invalidInput(errors);
  return { code: input.code, country: country!, region, percentage: percentage!, name };
}

export async function putTaxRate(context: AppContext, caller: Caller, input: PutTaxRateInput): Promise<{ rate: StoredTaxRate; created: boolean }> {
  requireOperator(caller, 'Tax rates');
  const values = validated(input);
  const now = context.clock.now();
  return context.database.transaction(async (tx) => {
    await lockTaxRateCode(tx, values.code);
    const current = await findTaxRate(tx, values.code);
    const next: StoredTaxRate = { ...values, createdAt: current?.createdAt ?? now, updatedAt: now };
    if (current === null) {
      await upsertTaxRate(tx, next);
      await recordAuditEvent(tx, caller, now, { organizationId: null, type: TAX_RATE_CREATE, changes: { ...values } });
      return { rate: next, created: true };
    }
    const changes: AuditChanges = {};
    for (const field of ['country', 'region', 'percentage', 'name'] as const) {
      if (current[field] !== next[field]) changes[field] = { old: current[field], new: next[field] };
    }
    if (Object.keys(changes).length === 0) return { rate: current, created: false };
    await upsertTaxRate(tx, next);
    await recordAuditEvent(tx, caller, now, { organizationId: null, type: TAX_RATE_UPDATE, changes: { code: values.code, ...changes } });
    return { rate: next, created: false };
  });
}

export async function getTaxRates(context: AppContext, caller: Caller): Promise<StoredTaxRate[]> {
  requireOperator(caller, 'Tax rates');
  return listTaxRates(context.database);
}

export async function deleteTaxRate(context: AppContext, caller: Caller, code: string): Promise<void> {
  requireOperator(caller, 'Tax rates');
  const now = context.clock.now();
  await context.database.transaction(async (tx) => {
    await lockTaxRateCode(tx, code);
    const current = await findTaxRate(tx, code);
    if (current === null || !(await deleteTaxRateRow(tx, code))) throw notFound('Tax rate');
    await recordAuditEvent(tx, caller, now, {
      organizationId: null,
      type: TAX_RATE_DELETE,
      changes: { code, country: current.country, region: current.region, percentage: current.percentage, name: current.name },
    });
  });
}
