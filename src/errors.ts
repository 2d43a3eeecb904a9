/**
 * The one error type of the core: a stable machine code, an HTTP status and, for bad input, the fields at fault.
 * Each HTTP surface renders it in its own documented error style; anything else is a 500 with a generic message.
 */
export interface FieldError {
  /** The field in the domain's words (e.g. `email`, `country`); surfaces translate it to their own names. */
  field: string;
  message: string;
  /** A short machine reason: `format`, `max_length`, `required`, `invalid_country`, … */
  reason?: string;
}

export class BillingError extends Error {
  constructor(
    readonly code: string,
    readonly status: number,
    message: string,
    readonly fieldErrors: FieldError[] = [],
    /** Seconds after which a retry may succeed; surfaces send it as the `Retry-After` header. */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = 'BillingError';
  }
}

export const notFound = (what = 'Resource') => new BillingError('not_found', 404, `${what} not found`);
export const forbidden = (message = 'You do not have the role this action needs') =>
  new BillingError('forbidden', 403, message);
/** Why credentials were refused, as the 401 body and the request log say it. */
export type UnauthorizedCode = 'unauthorized' | 'token_expired' | 'invalid_signature' | 'invalid_token' | 'user_tokens_not_configured';
export const unauthorized = (message = 'Missing or invalid credentials', code: UnauthorizedCode = 'unauthorized') =>
  new BillingError(code, 401, message);
export const invalidInput = (fieldErrors: FieldError[], code = 'invalid_input') =>
  new BillingError(code, 422, fieldErrors.map((e) => `${e.field}: ${e.message}`).join('; '), fieldErrors);
export const conflict = (code: string, message: string) => new BillingError(code, 409, message);
export const tooManyAttempts = (retryAfterSeconds: number, what = 'attempts') =>
  new BillingError('too_many_attempts', 429, `Too many ${what}; retry in ${retryAfterSeconds} s`, [], retryAfterSeconds);
export const preconditionFailed = () =>
  new BillingError('precondition_failed', 412, 'The resource changed since you read it (If-Match does not match its ETag)');

/** The database cannot be reached (a restart, a network fault): the request did not happen and may be retried. */
export const databaseUnavailable = (cause?: unknown) => {
  const error = new BillingError('database_unavailable', 503, 'The database is unavailable; retry shortly', [], 5);
  if (cause !== undefined) error.cause = cause;
  return error;
};

export const isDatabaseUnavailable = (error: unknown): boolean =>
  error instanceof BillingError && error.code === 'database_unavailable';

/** PostgreSQL error codes the core translates. */
export function isUniqueViolation(error: unknown, constraint?: string): boolean {
  return hasPgCode(error, '23505') && (constraint === undefined || pgConstraint(error) === constraint);
}

export function hasPgCode(error: unknown, code: string): boolean {
  return typeof error === 'object' && error !== null && 'code' in error && error.code === code;
}

function pgConstraint(error: unknown): string | undefined {
  if (typeof error === 'object' && error !== null && 'constraint' in error && typeof error.constraint === 'string') {
    return error.constraint;
  }
  return undefined;
}
