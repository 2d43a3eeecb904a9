import sql, { raw } from 'sql-template-tag';
import type { AppContext } from '../../app-context.js';
import { BillingError, invalidInput, type FieldError } from '../../errors.js';
import type { Caller } from '../../domain/actor.js';
import { periodContaining } from '../../domain/billing-period.js';
import { usageRefusal, usageRefusalMessages, type UsageRefusalReason } from '../../domain/usage-window.js';
import { invoicedPeriodsAfterInvoicing } from '../invoices/invoicing-lock.js';
import { jsonRows } from '../../db/json-rows.js';
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

/** An event of the batch that was not recorded, named by its position in the batch and its id. */
export interface RefusedUsageEvent {
  index: number;
  id: string;
  reason: UsageRefusalReason;
  message: string;
}

export interface RecordedUsage {
  /** Events recorded now (late ones included). */
  accepted: number;
  /** Events whose id was already recorded (or repeated in the batch): they change nothing. */
  duplicates: number;
  /** Accepted events for a period already invoiced: billed on the organization's next invoice. */
  late: number;
  /** Events refused (outside their cluster's life, or in the future), in batch order; the others are kept. */
  rejected: RefusedUsageEvent[];
}

export const MAX_USAGE_EVENTS_PER_BATCH = 1000;
export const USAGE_EVENTS_REJECTED = 'usage_events_rejected';

interface ClusterLife {
  id: string;
  organization_id: string;
  active_from: Date;
  active_until: Date | null;
}

/**
 * Records a batch of usage events in one statement (after the read of their clusters). Field errors name events as the operator API does
 * (`events[3].cluster_id`): it is the only door to this use case. An event naming an unknown cluster or a cluster
 * of another organization rejects the whole batch (422, one field error per bad event, by its index). Otherwise
 * each event is checked against its cluster's life and the clock (see domain/usage-window.ts): a refused event is
 * named in `rejected` and the others are recorded. An id already recorded (or repeated in the batch) is counted
 * as a duplicate and changes nothing. An event for a period already invoiced is recorded as late usage.
 */
export async function recordUsageEvents(context: AppContext, caller: Caller, events: readonly UsageEvent[]): Promise<RecordedUsage> {
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
  const { rows: clusterRows } = await context.database.query<ClusterLife>(
    sql`SELECT id, organization_id, active_from, active_until FROM clusters
         WHERE id = ANY(${[...new Set(events.map((event) => event.clusterId))]}::uuid[])`,
  );
  const clusters = new Map(clusterRows.map((row) => [row.id, row]));
  const unknown = events.flatMap((event, index) => (clusters.get(event.clusterId)?.organization_id === event.organizationId ? [] : [index]));
  if (unknown.length > 0) {
    throw new BillingError(
      USAGE_EVENTS_REJECTED,
      422,
      `Nothing was recorded: ${unknown.length} event(s) name an unknown cluster or a cluster of another organization`,
      unknown.map((index) => ({ field: `events[${index}].cluster_id`, reason: 'unknown_cluster', message: 'is not a cluster of this organization' })),
    );
  }

  const rejected: RefusedUsageEvent[] = [];
  const recordable: UsageEvent[] = [];
  events.forEach((event, index) => {
    const cluster = clusters.get(event.clusterId)!;
    const reason = usageRefusal(event.occurredAt, { activeFrom: cluster.active_from, activeUntil: cluster.active_until }, receivedAt);
    if (reason === null) recordable.push(event);
    else rejected.push({ index, id: event.id, reason, message: usageRefusalMessages[reason] });
  });
  if (recordable.length === 0) return { accepted: 0, duplicates: 0, late: 0, rejected };

  // One statement, so no transaction: late when its organization already has the invoice of the event's period,
  // read after any invoicing of these organizations has committed (see invoicedPeriodsAfterInvoicing); an
  // invoicing that starts later waits for this statement and then sees its events.
  const rows = recordable.map((event, position) => ({
    id: event.id,
    organization_id: event.organizationId,
    cluster_id: event.clusterId,
    metric: event.metric,
    quantity: event.quantity.toString(),
    occurred_at: event.occurredAt.toISOString(),
    period_start: periodContaining(event.occurredAt).start,
    position,
  }));
  const { rows: counted } = await context.database.query<{ accepted: number; late: number }>(
    sql`WITH batch AS MATERIALIZED (
          SELECT * FROM ${jsonRows(rows, 'e', 'id text, organization_id uuid, cluster_id uuid, metric text, quantity int8, occurred_at timestamptz, period_start timestamptz, position int4')}
        ), invoiced AS MATERIALIZED (${invoicedPeriodsAfterInvoicing(raw('batch'))}),
        inserted AS (
          INSERT INTO usage_events (id, organization_id, cluster_id, metric, quantity, occurred_at, received_at, late)
          SELECT e.id, e.organization_id, e.cluster_id, e.metric, e.quantity, e.occurred_at, ${receivedAt}::timestamptz,
                 EXISTS (SELECT 1 FROM invoiced i WHERE i.organization_id = e.organization_id AND i.period_start = e.period_start)
            FROM batch e
           ORDER BY e.position
          ON CONFLICT (id) DO NOTHING
          RETURNING late)
        SELECT count(*)::int4 AS accepted, (count(*) FILTER (WHERE late))::int4 AS late FROM inserted`,
  );
  const { accepted, late } = counted[0]!;
  return { accepted, duplicates: recordable.length - accepted, late, rejected };
}
