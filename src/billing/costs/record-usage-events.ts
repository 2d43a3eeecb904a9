import sql, { raw } from 'sql-template-tag';
import type { AppContext } from '../../app-context.js';
import { BillingError, invalidInput, type FieldError } from '../../errors.js';
import type { Caller } from '../../domain/actor.js';
import { periodContaining } from '../../domain/billing-period.js';
import { latestAcceptedUsageTime, usageRefusal, usageRefusalMessages, type UsageRefusalReason } from '../../domain/usage-window.js';
import { insideClusterLife } from './cluster-charges.js';
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

/** What the statement answers besides the counts: the events it did not record, by position in the batch. */
interface UsageBatchOutcome {
  accepted: number;
  late: number;
  /** Events naming an unknown cluster or a cluster of another organization: then nothing was recorded. */
  unknown: number[];
  /** Events of known clusters outside the usage window, with their cluster's life to name the reason. */
  refused: Array<{ position: number; active_from: string; active_until: string | null }> | null;
}

/**
 * Records a batch of usage events in ONE statement. Field errors name events as the operator API does
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
  // Each month's period start once per batch (by the event's 'YYYY-MM'), as text: see jsonRows on dates.
  const periodStarts = new Map<string, string>();
  const rows = events.map((event, position) => {
    const occurredAt = event.occurredAt.toISOString();
    const month = occurredAt.slice(0, 7);
    let periodStart = periodStarts.get(month);
    if (periodStart === undefined) {
      periodStart = periodContaining(event.occurredAt).start.toISOString();
      periodStarts.set(month, periodStart);
    }
    return {
      id: event.id,
      organization_id: event.organizationId,
      cluster_id: event.clusterId,
      metric: event.metric,
      quantity: event.quantity.toString(),
      occurred_at: occurredAt,
      period_start: periodStart,
      position,
    };
  });
  // ONE statement, so no transaction. Each event is matched to its cluster by the cluster's key (LATERAL … LIMIT 1:
  // as a plain join, the planner would hash the whole clusters table for every batch), ids compared as sent, so an
  // id in another spelling is unknown, as a stranger's; with any unknown cluster nothing is written. An event is
  // recorded when it lies in the usage window (usage-window.ts: inside its cluster's life, not in the future),
  // written here in SQL; the refused ones come back with their cluster's life, and the domain rule names the reason.
  // Late when its organization already has the invoice of the event's period, read after any invoicing of these
  // organizations has committed (see invoicedPeriodsAfterInvoicing); an invoicing that starts later waits for this
  // statement and then sees its events.
  const { rows: outcome } = await context.database.query<UsageBatchOutcome>(
    sql`WITH batch AS MATERIALIZED (
          SELECT * FROM ${jsonRows(rows, 'e', 'id text, organization_id text, cluster_id text, metric text, quantity int8, occurred_at timestamptz, period_start timestamptz, position int4')}
        ), checked AS MATERIALIZED (
          SELECT u.*, c.id IS NOT NULL AS known,
                 COALESCE(u.occurred_at <= ${latestAcceptedUsageTime(receivedAt)}::timestamptz AND ${insideClusterLife}, false) AS recordable,
                 c.active_from, c.active_until
            FROM batch u
            LEFT JOIN LATERAL (
              SELECT c.id, c.active_from, c.active_until FROM clusters c
               WHERE c.id = u.cluster_id::uuid AND c.id::text = u.cluster_id AND c.organization_id::text = u.organization_id LIMIT 1) c ON true
        ), recordable AS MATERIALIZED (
          SELECT id, organization_id::uuid AS organization_id, cluster_id::uuid AS cluster_id, metric, quantity, occurred_at, period_start, position
            FROM checked WHERE recordable AND NOT EXISTS (SELECT 1 FROM checked WHERE NOT known)
        ), invoiced AS MATERIALIZED (${invoicedPeriodsAfterInvoicing(raw('recordable'))}),
        inserted AS (
          INSERT INTO usage_events (id, organization_id, cluster_id, metric, quantity, occurred_at, received_at, late)
          SELECT e.id, e.organization_id, e.cluster_id, e.metric, e.quantity, e.occurred_at, ${receivedAt}::timestamptz,
                 EXISTS (SELECT 1 FROM invoiced i WHERE i.organization_id = e.organization_id AND i.period_start = e.period_start)
            FROM recordable e
           ORDER BY e.position
          ON CONFLICT (id) DO NOTHING
          RETURNING late)
        SELECT (SELECT count(*)::int4 FROM inserted) AS accepted,
               (SELECT (count(*) FILTER (WHERE late))::int4 FROM inserted) AS late,
               ARRAY(SELECT checked.position FROM checked WHERE NOT known ORDER BY checked.position) AS unknown,
               (SELECT json_agg(json_build_object('position', checked.position, 'active_from', active_from, 'active_until', active_until) ORDER BY checked.position)
                  FROM checked WHERE known AND NOT recordable) AS refused`,
    { prepare: 'record_usage_events' },
  );
  const { accepted, late, unknown, refused } = outcome[0]!;
  if (unknown.length > 0) {
    throw new BillingError(
      USAGE_EVENTS_REJECTED,
      422,
      `Nothing was recorded: ${unknown.length} event(s) name an unknown cluster or a cluster of another organization`,
      unknown.map((index) => ({ field: `events[${index}].cluster_id`, reason: 'unknown_cluster', message: 'is not a cluster of this organization' })),
    );
  }
  const rejected = (refused ?? []).map(({ position, active_from, active_until }): RefusedUsageEvent => {
    const event = events[position]!;
    const life = { activeFrom: new Date(active_from), activeUntil: active_until === null ? null : new Date(active_until) };
    const reason = usageRefusal(event.occurredAt, life, receivedAt);
    // The statement and the domain rule apply the same window; a disagreement is a bug, not an input error.
    if (reason === null) throw new Error(`usage event ${position} was refused by the statement but not by the usage window`);
    return { index: position, id: event.id, reason, message: usageRefusalMessages[reason] };
  });
  return { accepted, duplicates: events.length - rejected.length - accepted, late, rejected };
}
