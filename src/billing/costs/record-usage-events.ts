import sql from 'sql-template-tag';
import type { AppContext } from '../../app-context.js';
import { BillingError, invalidInput, type FieldError } from '../../errors.js';
import type { Caller } from '../../domain/actor.js';
import { requireOperator } from '../organizations/organization-access.js';

export interface UsageEvent {
  /** The sender's id: an event sent again with the same id counts once. */
  id: string;
  organizationId: string;
  clusterId: string;
  metric: 'node_hours';
  quantity: bigint;
  occurredAt: Date;
}

export const MAX_USAGE_EVENTS_PER_BATCH = 1000;
export const USAGE_EVENTS_REJECTED = 'usage_events_rejected';

/**
 * Records a batch of usage events in one statement: all or nothing. Field errors name events as the operator API
 * does (`events[3].cluster_id`): it is the only door to this use case. An event naming an unknown cluster or a
 * cluster of another organization rejects the whole batch (422, one field error per bad event, by its index).
 * An id already recorded (or repeated in the batch) is counted as a duplicate and changes nothing.
 */
export async function recordUsageEvents(
  context: AppContext,
  caller: Caller,
  events: readonly UsageEvent[],
): Promise<{ accepted: number; duplicates: number }> {
  requireOperator(caller, 'Clusters and usage');
  if (events.length < 1 || events.length > MAX_USAGE_EVENTS_PER_BATCH) {
    throw invalidInput([{ field: 'events', reason: 'size', message: `must hold 1 to ${MAX_USAGE_EVENTS_PER_BATCH} events` }]);
  }
  const inputErrors: FieldError[] = [];
  events.forEach((event, index) => {
    if (event.id.length < 1 || event.id.length > 255) inputErrors.push({ field: `events[${index}].id`, reason: 'length', message: 'must be 1 to 255 characters' });
    if (event.metric !== 'node_hours') inputErrors.push({ field: `events[${index}].metric`, reason: 'enum', message: 'must be "node_hours"' });
    if (event.quantity < 0n) inputErrors.push({ field: `events[${index}].quantity`, reason: 'minimum', message: 'must not be negative' });
    if (Number.isNaN(event.occurredAt.getTime())) inputErrors.push({ field: `events[${index}].occurred_at`, reason: 'format', message: 'must be a date-time' });
  });
  if (inputErrors.length > 0) throw invalidInput(inputErrors);

  const receivedAt = context.clock.now();
  // One statement, so one round trip and atomic by itself: the ownership check and the insert see the same
  // clusters, and a batch with a bad event inserts nothing.
  const { rows } = await context.database.query<{ bad_positions: number[]; accepted: bigint }>(
    sql`WITH e AS (
       SELECT * FROM unnest(${events.map((event) => event.id)}::text[], ${events.map((event) => event.organizationId)}::uuid[],
                            ${events.map((event) => event.clusterId)}::uuid[], ${events.map((event) => event.metric)}::text[],
                            ${events.map((event) => event.quantity.toString())}::int8[],
                            ${events.map((event) => event.occurredAt.toISOString())}::timestamptz[]) WITH ORDINALITY
                AS e (id, organization_id, cluster_id, metric, quantity, occurred_at, position)
     ), bad AS (
       SELECT e.position FROM e
         LEFT JOIN clusters c ON c.id = e.cluster_id AND c.organization_id = e.organization_id
        WHERE c.id IS NULL
     ), inserted AS (
       INSERT INTO usage_events (id, organization_id, cluster_id, metric, quantity, occurred_at, received_at)
       SELECT e.id, e.organization_id, e.cluster_id, e.metric, e.quantity, e.occurred_at, ${receivedAt}::timestamptz FROM e
        WHERE NOT EXISTS (SELECT 1 FROM bad)
        ORDER BY e.position
       ON CONFLICT (id) DO NOTHING
       RETURNING 1
     )
     SELECT (SELECT COALESCE(array_agg((position - 1)::int4 ORDER BY position), '{}') FROM bad) AS bad_positions,
            (SELECT count(*) FROM inserted)::int8 AS accepted`,
  );
  const badPositions = rows[0]!.bad_positions;
  if (badPositions.length > 0) {
    throw new BillingError(
      USAGE_EVENTS_REJECTED,
      422,
      `Nothing was recorded: ${badPositions.length} event(s) name an unknown cluster or a cluster of another organization`,
      badPositions.map((index) => ({ field: `events[${index}].cluster_id`, reason: 'unknown_cluster', message: 'is not a cluster of this organization' })),
    );
  }
  const accepted = Number(rows[0]!.accepted);
  return { accepted, duplicates: events.length - accepted };
}
