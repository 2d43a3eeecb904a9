/**
 * The webhook delivery worker. Deliveries are claimed with FOR UPDATE SKIP LOCKED (any number of processes share
 * them, none sends one another is sending) and sent concurrently, a few per endpoint at most, so that a slow endpoint
 * never holds up another's. A committed event wakes the workers at once (LISTEN/NOTIFY); a poll is the fallback.
 * Each attempt is signed afresh (`webhook-timestamp` is wall-clock time), with the event id as `webhook-id`.
 */
import http from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import sql from 'sql-template-tag';
import { insertAuditEvent } from '../audit/record-audit-event.js';
import type { Database } from '../db/database.js';
import { systemCaller } from '../domain/actor.js';
import { isNonPublicAddress } from '../domain/network-address.js';
import { WEBHOOK_FAILING_DISABLE_MS, WEBHOOK_TIMEOUT_MS, webhookRetryDelayMs } from '../domain/webhook-retry-schedule.js';
import type { Logger } from '../logger.js';
import { deliveryWakeChannel } from './webhook-delivery.js';
import { signWebhook } from './webhook-signature.js';
import { parseWebhookUrl, publicOnlyLookup } from './webhook-target.js';

export const WEBHOOK_ENDPOINT_DISABLE = 'WEBHOOK_ENDPOINT_DISABLE';

/** Deliveries in flight in one process, and per endpoint. */
const MAX_IN_FLIGHT = 32;
const MAX_IN_FLIGHT_PER_ENDPOINT = 4;
/** A claimed delivery is another worker's again after this long (its process died mid-send). */
const CLAIM_SECONDS = 60;
/** Bytes of a receiver's answer read (and then dropped) at most. */
const MAX_ANSWER_BYTES = 64 * 1024;

interface ClaimedDelivery {
  id: string;
  attempts: number;
  event_id: string;
  event_type: string;
  data: unknown;
  occurred_at: Date;
  endpoint_id: string;
  url: string;
  secret: string;
  previous_secret: string | null;
}

export interface AttemptOutcome {
  ok: boolean;
  statusCode: number | null;
  error: string | null;
}

export interface WebhookDispatcherOptions {
  allowPrivate: boolean;
  pollIntervalMs: number;
}

/** The body of a delivery: the same bytes on every attempt. */
export function webhookBody(type: string, occurredAt: Date, data: unknown): string {
  return JSON.stringify({ type, timestamp: occurredAt.toISOString(), data });
}

export class WebhookDispatcher {
  private stopped = true;
  private timer: NodeJS.Timeout | null = null;
  private unlisten: (() => Promise<void>) | null = null;
  private claiming = false;
  private wakeAgain = false;
  private readonly inFlight = new Map<string, number>();
  private inFlightTotal = 0;
  private readonly sending = new Set<Promise<void>>();
  /** Kept-alive connections: an endpoint's next delivery skips the TCP (and TLS) handshake. A socket was checked when opened. */
  private readonly agents = {
    'http:': new http.Agent({ keepAlive: true, maxSockets: MAX_IN_FLIGHT_PER_ENDPOINT, timeout: WEBHOOK_TIMEOUT_MS }),
    'https:': new https.Agent({ keepAlive: true, maxSockets: MAX_IN_FLIGHT_PER_ENDPOINT, timeout: WEBHOOK_TIMEOUT_MS }),
  };

  constructor(
    private readonly database: Database,
    private readonly logger: Logger,
    private readonly options: WebhookDispatcherOptions,
  ) {}

  async start(): Promise<void> {
    if (!this.stopped) return;
    this.stopped = false;
    try {
      this.unlisten = await this.database.listen(deliveryWakeChannel, () => this.wake());
    } catch (error) {
      this.logger.warn({ err: error }, 'webhook worker cannot listen for wake-ups; it polls');
    }
    this.wake();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.unlisten?.().catch(() => undefined);
    this.unlisten = null;
    while (this.claiming || this.sending.size > 0) {
      await Promise.allSettled([...this.sending]);
      if (this.claiming) await new Promise((resolve) => setTimeout(resolve, 5));
    }
    this.agents['http:'].destroy();
    this.agents['https:'].destroy();
  }

  /** Look for due deliveries now (a commit that queued some, a free slot, the poll). */
  wake(): void {
    if (this.stopped) return;
    if (this.claiming) {
      this.wakeAgain = true;
      return;
    }
    void this.claimAndSend();
  }

  /** Sends every due delivery and waits for the sends (tests, tools); does not need `start`. */
  async deliverDue(): Promise<number> {
    let count = 0;
    for (;;) {
      const claimed = await this.claim(MAX_IN_FLIGHT);
      if (claimed.length === 0) break;
      await Promise.all(claimed.map((delivery) => this.deliver(delivery)));
      count += claimed.length;
    }
    return count;
  }

  private async claimAndSend(): Promise<void> {
    this.claiming = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    try {
      do {
        this.wakeAgain = false;
        const free = MAX_IN_FLIGHT - this.inFlightTotal;
        if (free <= 0) break;
        const claimed = await this.claim(free);
        for (const delivery of claimed) this.launch(delivery);
        if (claimed.length === free) this.wakeAgain = true;
      } while (this.wakeAgain && !this.stopped);
    } catch (error) {
      this.logger.warn({ err: error }, 'webhook worker failed to claim deliveries');
    } finally {
      this.claiming = false;
      if (!this.stopped) this.timer = setTimeout(() => this.wake(), this.options.pollIntervalMs);
    }
  }

  private launch(delivery: ClaimedDelivery): void {
    this.inFlightTotal += 1;
    this.inFlight.set(delivery.endpoint_id, (this.inFlight.get(delivery.endpoint_id) ?? 0) + 1);
    const sent: Promise<void> = this.deliver(delivery)
      .catch((error: unknown) => this.logger.error({ err: error, deliveryId: delivery.id }, 'webhook delivery could not be recorded'))
      .finally(() => {
        this.sending.delete(sent);
        this.inFlightTotal -= 1;
        const left = (this.inFlight.get(delivery.endpoint_id) ?? 1) - 1;
        if (left === 0) this.inFlight.delete(delivery.endpoint_id);
        else this.inFlight.set(delivery.endpoint_id, left);
        this.wake();
      });
    this.sending.add(sent);
  }

  /** Due deliveries of enabled endpoints, a few per endpoint, skipping those another worker holds and busy endpoints. */
  private async claim(limit: number): Promise<ClaimedDelivery[]> {
    const saturated = [...this.inFlight].filter(([, count]) => count >= MAX_IN_FLIGHT_PER_ENDPOINT).map(([id]) => id);
    const { rows } = await this.database.query<ClaimedDelivery>(
      sql`WITH due AS (
            SELECT w.id, row_number() OVER (PARTITION BY w.endpoint_id ORDER BY w.next_attempt_at, w.id) AS rank
              FROM webhook_deliveries w JOIN webhook_endpoints we ON we.id = w.endpoint_id
             WHERE ((w.state = 'pending' AND w.next_attempt_at <= now()) OR (w.state = 'sending' AND w.locked_until < now()))
               AND NOT we.disabled AND NOT (w.endpoint_id = ANY(${saturated}::uuid[]))
          ), claimable AS (
            SELECT d.id FROM webhook_deliveries d
             WHERE d.id IN (SELECT due.id FROM due WHERE due.rank <= ${MAX_IN_FLIGHT_PER_ENDPOINT}::int)
             ORDER BY d.next_attempt_at
             LIMIT ${limit}::int
             FOR UPDATE SKIP LOCKED
          )
          UPDATE webhook_deliveries d
             SET state = 'sending', attempts = d.attempts + 1, locked_until = now() + make_interval(secs => ${CLAIM_SECONDS}),
                 last_attempt_at = now()
            FROM claimable, billing_events ev, webhook_endpoints e
           WHERE d.id = claimable.id AND ev.id = d.event_id AND e.id = d.endpoint_id
             AND ((d.state = 'pending' AND d.next_attempt_at <= now()) OR (d.state = 'sending' AND d.locked_until < now()))
          RETURNING d.id, d.attempts, ev.id AS event_id, ev.type AS event_type, ev.data, ev.occurred_at, e.id AS endpoint_id, e.url,
                    e.secret, CASE WHEN e.previous_secret_expires_at > now() THEN e.previous_secret END AS previous_secret`,
    );
    return rows;
  }

  private async deliver(delivery: ClaimedDelivery): Promise<void> {
    const body = webhookBody(delivery.event_type, delivery.occurred_at, delivery.data);
    const secrets = delivery.previous_secret ? [delivery.secret, delivery.previous_secret] : [delivery.secret];
    const outcome = await this.post(delivery.url, {
      'content-type': 'application/json',
      'user-agent': 'Bursar-Webhooks/1',
      'webhook-id': delivery.event_id,
      'webhook-timestamp': Math.floor(Date.now() / 1000).toString(),
      'webhook-signature': signWebhook(secrets, delivery.event_id, new Date(), body),
    }, body);
    await this.record(delivery, outcome);
  }

  /** One POST: 2xx within the timeout is a success; no redirect is followed; only public addresses unless allowed. */
  private post(url: string, headers: Record<string, string>, body: string): Promise<AttemptOutcome> {
    const target = parseWebhookUrl(url);
    if (!(target instanceof URL)) return Promise.resolve({ ok: false, statusCode: null, error: target.message });
    const host = target.hostname.replace(/^\[|\]$/g, '');
    if (!this.options.allowPrivate && isIP(host) && isNonPublicAddress(host)) {
      return Promise.resolve({ ok: false, statusCode: null, error: 'refused: the endpoint is a loopback, private or link-local address' });
    }
    const client = target.protocol === 'https:' ? https : http;
    return new Promise<AttemptOutcome>((resolve) => {
      let settled = false;
      const settle = (outcome: AttemptOutcome): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(outcome);
      };
      const request = client.request(
        target,
        {
          method: 'POST',
          headers: { ...headers, 'content-length': Buffer.byteLength(body).toString() },
          lookup: publicOnlyLookup(this.options.allowPrivate),
          agent: target.protocol === 'https:' ? this.agents['https:'] : this.agents['http:'],
        },
        (response) => {
          const statusCode = response.statusCode ?? 0;
          let read = 0;
          response.on('data', (chunk: Buffer) => {
            read += chunk.length;
            if (read > MAX_ANSWER_BYTES) response.destroy();
          });
          const done = (): void =>
            settle(statusCode >= 200 && statusCode < 300 ? { ok: true, statusCode, error: null } : { ok: false, statusCode, error: `HTTP ${statusCode}` });
          response.on('end', done);
          response.on('close', done);
          response.on('error', done);
        },
      );
      const timer = setTimeout(() => {
        request.destroy();
        settle({ ok: false, statusCode: null, error: `no answer within ${WEBHOOK_TIMEOUT_MS / 1000} s` });
      }, WEBHOOK_TIMEOUT_MS);
      request.on('error', (error: NodeJS.ErrnoException) => {
        const refused = error.code === 'EPRIVATEADDRESS';
        settle({ ok: false, statusCode: null, error: refused ? `refused: ${error.message}` : error.message || String(error.code) });
      });
      request.end(body);
    });
  }

  /**
   * The attempt's outcome, in one transaction: delivered; or the next attempt per the schedule, or failed after the
   * last. An endpoint failing without a single success for three days is disabled, and the audit trail says so.
   */
  private async record(delivery: ClaimedDelivery, outcome: AttemptOutcome): Promise<void> {
    const error = outcome.error?.slice(0, 500) ?? null;
    if (outcome.ok) {
      // One statement (atomic by itself): the common case costs one round trip.
      await this.database.query(
        sql`WITH delivered AS (
              UPDATE webhook_deliveries SET state = 'delivered', delivered_at = now(), locked_until = NULL,
                     last_status_code = ${outcome.statusCode}::int, last_error = NULL
               WHERE id = ${delivery.id}::uuid
            )
            UPDATE webhook_endpoints SET failing_since = NULL WHERE id = ${delivery.endpoint_id}::uuid AND failing_since IS NOT NULL`,
        { prepare: 'webhook_delivered' },
      );
      return;
    }
    await this.database.transaction(async (tx) => {
      const delayMs = webhookRetryDelayMs(delivery.attempts);
      await tx.query(
        sql`UPDATE webhook_deliveries SET state = ${delayMs === null ? 'failed' : 'pending'}, locked_until = NULL,
                   next_attempt_at = now() + make_interval(secs => ${(delayMs ?? 0) / 1000}),
                   last_status_code = ${outcome.statusCode}::int, last_error = ${error}
             WHERE id = ${delivery.id}::uuid`,
      );
      const { rows } = await tx.query<{ id: string }>(
        sql`WITH failing AS (
              UPDATE webhook_endpoints e
                 SET failing_since = COALESCE(e.failing_since, now()),
                     disabled = e.disabled OR COALESCE(e.failing_since, now()) <= now() - make_interval(secs => ${WEBHOOK_FAILING_DISABLE_MS / 1000}),
                 updated_at = CASE WHEN NOT e.disabled AND COALESCE(e.failing_since, now()) <= now() - make_interval(secs => ${WEBHOOK_FAILING_DISABLE_MS / 1000})
                                   THEN now() ELSE e.updated_at END
                FROM (SELECT id, disabled FROM webhook_endpoints WHERE id = ${delivery.endpoint_id}::uuid FOR UPDATE) AS before
               WHERE e.id = before.id
              RETURNING e.id, e.failing_since, e.disabled AND NOT before.disabled AS newly_disabled
            ), disabled AS (
              SELECT id, failing_since FROM failing WHERE newly_disabled
            ), audit AS (
              ${insertAuditEvent(
                systemCaller('webhooks'),
                new Date(),
                {
                  organizationId: null,
                  type: WEBHOOK_ENDPOINT_DISABLE,
                  changes: sql`jsonb_build_object('endpointId', disabled.id, 'disabled', jsonb_build_object('old', false, 'new', true),
                                                  'reason', 'every delivery failed for three days', 'failingSince', disabled.failing_since)`,
                },
                sql`disabled`,
              )} RETURNING 1
            )
            SELECT id FROM disabled`,
      );
      if (rows.length > 0) this.logger.warn({ endpointId: delivery.endpoint_id }, 'webhook endpoint disabled: every delivery failed for three days');
    });
    this.logger.info({ deliveryId: delivery.id, eventId: delivery.event_id, attempt: delivery.attempts, error }, 'webhook delivery failed');
  }
}
