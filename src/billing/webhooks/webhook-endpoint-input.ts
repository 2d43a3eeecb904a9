/** The rules of an endpoint's fields, shared by create and update: the URL's target, known event types. */
import { BillingError, type FieldError } from '../../errors.js';
import { isBillingEventType } from '../../events/event-types.js';
import { checkWebhookTarget } from '../../events/webhook-target.js';

/** 400 with the fields at fault (the contract for endpoints). */
function badRequest(code: string, fieldErrors: FieldError[]): BillingError {
  return new BillingError(code, 400, fieldErrors.map((e) => `${e.field}: ${e.message}`).join('; '), fieldErrors);
}

/** Refuses an unknown event type by name; an empty list means every type. Duplicates are dropped. */
export function normalizeEventTypes(eventTypes: readonly string[]): string[] {
  const unknown = eventTypes.filter((type) => !isBillingEventType(type));
  if (unknown.length > 0) {
    throw badRequest(
      'unknown_event_type',
      unknown.map((type) => ({ field: 'event_types', reason: 'unknown_event_type', message: `unknown event type: ${type}` })),
    );
  }
  return [...new Set(eventTypes)];
}

/** An http(s) URL whose host resolves to public addresses only (unless private ones are allowed). */
export async function checkEndpointUrl(url: string, allowPrivate: boolean): Promise<void> {
  const problem = await checkWebhookTarget(url, allowPrivate);
  if (!problem) return;
  const error: FieldError = { field: 'url', reason: problem.reason, message: problem.message };
  throw badRequest(problem.reason === 'private_address' ? 'private_address' : 'invalid_url', [error]);
}
