/**
 * Every error a route can meet, reduced to one shape; each surface renders this shape in its documented style.
 */
import { BillingError } from '../errors.js';
import { PaymentProviderError } from '../providers/payments/payment-provider.js';

export interface ProblemField {
  /** Field name as the client sent it (surface names), or the domain name for core errors (surfaces translate). */
  field: string;
  message: string;
  /** Schema keyword (`type`, `required`, `maxLength`, `format`, …) or a core reason. */
  reason: string;
  /** Where the field is: body, params, querystring, headers. */
  location: string;
  /** True when the field name is a core (domain) name that the surface must translate. */
  domain: boolean;
}

export interface Problem {
  status: number;
  code: string;
  message: string;
  fields: ProblemField[];
  /** Kind of bad input, so that surfaces can pick 400 or 422 as they document. */
  kind: 'schema' | 'malformed' | 'core' | 'other';
  /** Sent as `Retry-After` by every surface (a database outage). */
  retryAfterSeconds?: number;
}

interface AjvIssue {
  instancePath?: string;
  keyword: string;
  params?: Record<string, unknown>;
  message?: string;
}

/** A JSON pointer's segments (`/events/0/metric` → events, 0, metric), with `~1` and `~0` unescaped. */
function pointerSegments(pointer: string): Array<string | number> {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((segment) => segment.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((segment) => (/^(0|[1-9]\d*)$/.test(segment) ? Number(segment) : segment));
}

/** The one path style of every error body: properties joined by dots, array positions in brackets (`events[0].metric`). */
function formatFieldPath(segments: ReadonlyArray<string | number>): string {
  return segments.reduce<string>(
    (path, segment) => (typeof segment === 'number' ? `${path}[${segment}]` : path === '' ? segment : `${path}.${segment}`),
    '',
  );
}

/** A field path's segments again, for surfaces whose errors locate a field by a list (`["body", "events", 0, "metric"]`). */
export function fieldPathSegments(field: string): Array<string | number> {
  return [...field.matchAll(/([^.[\]]+)|\[(\d+)\]/g)].map((match) => (match[2] !== undefined ? Number(match[2]) : match[1]!));
}

function fieldOf(issue: AjvIssue): string {
  const params = issue.params ?? {};
  const extra =
    typeof params.missingProperty === 'string'
      ? params.missingProperty
      : typeof params.additionalProperty === 'string'
        ? params.additionalProperty
        : undefined;
  const segments = pointerSegments(issue.instancePath ?? '');
  return formatFieldPath(extra === undefined ? segments : [...segments, extra]) || '(body)';
}

/**
 * The values a field may take, when the schema lists them: a union of literals reports one `const` issue per
 * literal (and a nullable one a `type: null` issue), an `enum` all of them at once.
 */
function allowedValuesByField(issues: AjvIssue[]): Map<string, unknown[]> {
  const allowed = new Map<string, unknown[]>();
  const add = (field: string, values: unknown[]) => allowed.set(field, [...(allowed.get(field) ?? []), ...values]);
  for (const issue of issues) {
    if (issue.keyword === 'const' && issue.params && 'allowedValue' in issue.params) add(fieldOf(issue), [issue.params.allowedValue]);
    if (issue.keyword === 'enum' && Array.isArray(issue.params?.allowedValues)) add(fieldOf(issue), issue.params.allowedValues);
  }
  for (const issue of issues) {
    if (issue.keyword === 'type' && issue.params?.type === 'null' && allowed.has(fieldOf(issue))) add(fieldOf(issue), [null]);
  }
  return allowed;
}

function listValues(values: unknown[]): string {
  const unique = [...new Set(values)];
  const listed = unique.map((value) => JSON.stringify(value)).join(', ');
  return unique.length === 1 ? `must be ${listed}` : `must be one of ${listed}`;
}

function messageOf(issue: AjvIssue): string {
  if (issue.keyword === 'additionalProperties') return 'is not a known field';
  if (issue.keyword === 'required') return 'is required';
  return issue.message ?? 'is invalid';
}

function isValidationError(error: object): error is { validation: AjvIssue[]; validationContext?: string } {
  return 'validation' in error && Array.isArray(error.validation);
}

export function toProblem(error: unknown): Problem {
  if (error instanceof BillingError) {
    return {
      status: error.status,
      code: error.code,
      message: error.message,
      fields: error.fieldErrors.map((f) => ({ field: f.field, message: f.message, reason: f.reason ?? 'invalid', location: 'body', domain: true })),
      kind: error.fieldErrors.length > 0 ? 'core' : 'other',
      ...(error.retryAfterSeconds !== undefined ? { retryAfterSeconds: error.retryAfterSeconds } : {}),
    };
  }
  if (error instanceof PaymentProviderError) {
    return { status: 402, code: error.code, message: error.message, fields: [], kind: 'other' };
  }
  if (typeof error === 'object' && error !== null) {
    if (isValidationError(error)) {
      const location = error.validationContext ?? 'body';
      const allowedValues = allowedValuesByField(error.validation);
      const seen = new Set<string>();
      const fields: ProblemField[] = [];
      for (const issue of error.validation) {
        const field = fieldOf(issue);
        const listed = allowedValues.get(field);
        const reason = listed && (issue.keyword === 'const' || issue.keyword === 'enum') ? 'enum' : issue.keyword;
        const key = `${field}:${reason}`;
        // A nullable field is `anyOf [T, null]`: Ajv reports each branch; the T branch says what is wrong.
        if (seen.has(key) || issue.keyword === 'anyOf' || (issue.keyword === 'type' && issue.params?.type === 'null')) continue;
        seen.add(key);
        const message = reason === 'enum' && listed ? listValues(listed) : messageOf(issue);
        fields.push({ field, message, reason, location, domain: false });
      }
      return { status: 400, code: 'validation_error', message: 'The request is invalid', fields, kind: 'schema' };
    }
    const code = 'code' in error && typeof error.code === 'string' ? error.code : '';
    const statusCode = 'statusCode' in error && typeof error.statusCode === 'number' ? error.statusCode : 500;
    if (code === 'FST_ERR_CTP_BODY_TOO_LARGE' || statusCode === 413) {
      return { status: 413, code: 'payload_too_large', message: 'The request body is larger than 64 KiB', fields: [], kind: 'other' };
    }
    if (code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' || statusCode === 415) {
      return { status: 415, code: 'unsupported_media_type', message: 'Send the body as application/json', fields: [], kind: 'other' };
    }
    if (code === 'FST_ERR_CTP_EMPTY_JSON_BODY' || code === 'FST_ERR_CTP_INVALID_JSON_BODY' || error instanceof SyntaxError || (statusCode === 400 && code.startsWith('FST_ERR_CTP'))) {
      return { status: 400, code: 'malformed_json', message: 'The request body is not valid JSON', fields: [], kind: 'malformed' };
    }
    if (statusCode >= 400 && statusCode < 500) {
      const message = error instanceof Error ? error.message : 'Bad request';
      return { status: statusCode, code: 'bad_request', message, fields: [], kind: 'other' };
    }
  }
  return { status: 500, code: 'internal_error', message: 'Something went wrong on our side', fields: [], kind: 'other' };
}
