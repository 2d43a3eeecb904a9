/** The operator sets the seller identity printed on invoices issued from now on (issued invoices keep theirs). */
import type { AppContext } from '../../app-context.js';
import { recordAuditEvent, type AuditChanges } from '../../audit/record-audit-event.js';
import { invoiceNumberPrefixPattern } from '../../config.js';
import { MAX_EMAIL_LENGTH, normalizeTextFields, postalAddressRules, type TextFieldRule } from '../../domain/billing-profile.js';
import type { Caller } from '../../domain/actor.js';
import { invalidInput, type FieldError } from '../../errors.js';
import { requireOperator } from '../organizations/organization-access.js';
import { lockSeller, writeSeller, type Seller, type SellerIdentity } from './seller.js';

export const SELLER_UPDATE = 'SELLER_UPDATE';

/** What a PUT sends: every identity field (optional ones null or left out); the prefix left out keeps the current one. */
export type PutSellerInput = Omit<SellerIdentity, 'invoiceNumberPrefix'> & { invoiceNumberPrefix?: string | undefined };

type IdentityField = Exclude<keyof SellerIdentity, 'invoiceNumberPrefix'>;

/** In the order errors name the fields; the same lengths and country rule as a billing address. */
const sellerRules: Record<IdentityField, TextFieldRule> = {
  name: { maxLength: 255 },
  addressLine1: postalAddressRules.addressLine1,
  addressLine2: postalAddressRules.addressLine2,
  city: postalAddressRules.city,
  postalCode: postalAddressRules.postalCode,
  state: postalAddressRules.state,
  country: postalAddressRules.country,
  taxId: { maxLength: 64 },
  email: { maxLength: MAX_EMAIL_LENGTH, kind: 'email' },
};

const requiredFields: readonly IdentityField[] = ['name', 'addressLine1', 'city', 'postalCode', 'country', 'email'];

/** Trimmed values, or every field at fault: required fields present, lengths, ISO country, e-mail, prefix. */
export function validateSeller(input: PutSellerInput, currentPrefix: string): { identity: SellerIdentity } | { errors: FieldError[] } {
  const { values, errors } = normalizeTextFields<IdentityField>(input, sellerRules);
  for (const field of requiredFields) {
    if (values[field] == null && !errors.some((error) => error.field === field)) {
      errors.push({ field, reason: 'required', message: 'is required' });
    }
  }
  const prefix = input.invoiceNumberPrefix ?? currentPrefix;
  if (!invoiceNumberPrefixPattern.test(prefix)) {
    errors.push({ field: 'invoiceNumberPrefix', reason: 'pattern', message: 'must be at most 20 letters, digits, "-", "_", "." or "/"' });
  }
  if (errors.length > 0) return { errors };
  return {
    identity: {
      name: values.name!,
      addressLine1: values.addressLine1 ?? null,
      addressLine2: values.addressLine2 ?? null,
      city: values.city ?? null,
      postalCode: values.postalCode ?? null,
      state: values.state ?? null,
      country: values.country ?? null,
      taxId: values.taxId ?? null,
      email: values.email ?? null,
      invoiceNumberPrefix: prefix,
    },
  };
}

const auditedFields: ReadonlyArray<keyof SellerIdentity> = [
  'name', 'addressLine1', 'addressLine2', 'city', 'postalCode', 'state', 'country', 'taxId', 'email', 'invoiceNumberPrefix',
];

/** Replaces the seller identity (operators only), audited `SELLER_UPDATE` with old and new values; no change, no event. */
export async function putSeller(context: AppContext, caller: Caller, input: PutSellerInput): Promise<Seller> {
  requireOperator(caller, 'The seller settings');
  const now = context.clock.now();
  return context.database.transaction(async (tx) => {
    const current = await lockSeller(tx);
    const checked = validateSeller(input, current.invoiceNumberPrefix);
    if ('errors' in checked) throw invalidInput(checked.errors);
    const changes: AuditChanges = {};
    for (const field of auditedFields) {
      if (current[field] !== checked.identity[field]) changes[field] = { old: current[field], new: checked.identity[field] };
    }
    if (Object.keys(changes).length === 0 && current.setByOperator) return current;
    const seller = await writeSeller(tx, checked.identity, now);
    await recordAuditEvent(tx, caller, now, { organizationId: null, type: SELLER_UPDATE, changes });
    return seller;
  });
}

