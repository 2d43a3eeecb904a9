/** The billing page's forms: their fields, how core errors name them, and what a problem says next to them. */
import type { Problem, ProblemField } from '../problem.js';
import { billingInfoFieldNames } from '../routes/organization/billing-info.js';
import type { FormState } from './billing-page.js';

export type FormName = 'details' | 'address' | 'address-actions' | 'card' | 'card-actions' | 'credit-code' | 'plan' | 'email-invoices' | 'usage-report';

interface FormSpec {
  name: FormName;
  fields: string[];
  /** Core (domain) field name → this form's field. */
  domainNames: Record<string, string>;
  /** Where a problem that names no field is shown, when it belongs next to one. */
  primaryField: string | null;
  /** Fields never sent back into the page (card data). */
  secret: string[];
}

const forms: Record<FormName, FormSpec> = {
  details: {
    name: 'details',
    fields: ['first_name', 'last_name', 'email', 'address', 'city', 'zip', 'state', 'country_code', 'company', 'vat_number'],
    domainNames: billingInfoFieldNames,
    primaryField: null,
    secret: [],
  },
  address: {
    name: 'address',
    fields: ['name', 'company', 'address_line_1', 'address_line_2', 'city', 'state', 'postal_code', 'country'],
    domainNames: { addressLine1: 'address_line_1', addressLine2: 'address_line_2', postalCode: 'postal_code' },
    primaryField: null,
    secret: [],
  },
  card: {
    name: 'card',
    fields: ['number', 'expiry_month', 'expiry_year', 'cvv', 'token'],
    domainNames: { expiryMonth: 'expiry_month', expiryYear: 'expiry_year' },
    primaryField: null,
    secret: ['number', 'cvv', 'token'],
  },
  // The buttons of each listed address or card (make default, delete): their problems show above the list.
  'address-actions': { name: 'address-actions', fields: [], domainNames: {}, primaryField: null, secret: [] },
  'card-actions': { name: 'card-actions', fields: [], domainNames: {}, primaryField: null, secret: [] },
  'credit-code': { name: 'credit-code', fields: ['code'], domainNames: {}, primaryField: 'code', secret: [] },
  plan: { name: 'plan', fields: ['plan'], domainNames: {}, primaryField: null, secret: [] },
  'email-invoices': { name: 'email-invoices', fields: [], domainNames: {}, primaryField: null, secret: [] },
  'usage-report': { name: 'usage-report', fields: ['from', 'to'], domainNames: {}, primaryField: null, secret: [] },
};

export function formOf(name: FormName): FormSpec {
  return forms[name];
}

/** What was typed (card data left out) and each problem next to its field, in plain words. */
export function toFormState(form: FormSpec, body: Record<string, string>, problem: Problem): FormState {
  const values: Record<string, string> = {};
  for (const field of form.fields) {
    if (!form.secret.includes(field) && typeof body[field] === 'string') values[field] = body[field];
  }
  const errors: Record<string, string> = {};
  const unplaced: string[] = [];
  for (const issue of problem.fields) {
    const field = issue.domain ? (form.domainNames[issue.field] ?? issue.field) : issue.field;
    if (form.fields.includes(field)) errors[field] ??= plainWords(issue, body[field]);
    else unplaced.push(sentence(issue.message));
  }
  let formError: string | null = unplaced.length > 0 ? unplaced.join(' ') : null;
  if (problem.fields.length === 0) {
    const message = problemWords(problem);
    if (form.primaryField) errors[form.primaryField] = message;
    else formError = message;
  }
  // A plan change that needs billing details names them; they are filled in another form.
  if (problem.code === 'billing_profile_incomplete') formError = `${problem.message}.`;
  return { form: form.name, values, errors, formError };
}

function plainWords(issue: ProblemField, value: string | undefined): string {
  if (issue.reason === 'required' || ((issue.reason === 'minLength' || issue.reason === 'minimum') && !value)) return 'Fill in this field.';
  if (issue.reason === 'maxLength') return 'This is too long.';
  if (issue.reason === 'format' && issue.field === 'email') return 'Enter an e-mail address, like name@example.com.';
  if (issue.reason === 'format') return 'Enter a date.';
  if (issue.reason === 'pattern' && issue.field.startsWith('expiry')) return 'Enter the month and year printed on the card.';
  if (issue.reason === 'minLength' || issue.reason === 'pattern') return 'This is not in the expected form.';
  return sentence(issue.message);
}

/** A core message ("must be …", "is …") as a sentence about the field it is shown next to. */
function sentence(message: string): string {
  const text = /^(must|is|are|should|cannot|does|has)\b/.test(message) ? `This ${message}` : message.charAt(0).toUpperCase() + message.slice(1);
  return /[.!?]$/.test(text) ? text : `${text}.`;
}

function problemWords(problem: Problem): string {
  if (problem.status === 402) return `The card was not accepted: ${problem.message.replace(/[.]$/, '')}.`;
  return sentence(problem.message);
}

const notices = {
  'details-saved': 'Your billing details are saved.',
  'address-added': 'The address is added.',
  'address-default': 'The default address is changed.',
  'address-deleted': 'The address is deleted.',
  'card-added': 'The card is added.',
  'card-default': 'The default card is changed.',
  'card-deleted': 'The card is deleted.',
  'code-redeemed': 'The credit code is redeemed.',
  'plan-changed': 'Your plan is changed.',
  'invoices-emailed': 'Your invoices are on their way to your billing e-mail.',
} as const;

export type Notice = keyof typeof notices;

/** Only the page's own notices are shown: nothing from the address bar reaches the page as text. */
export function noticeText(key: string | undefined): string | null {
  return key !== undefined && Object.hasOwn(notices, key) ? notices[key as Notice] : null;
}
