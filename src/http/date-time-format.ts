/**
 * `format: "date-time"` as Ajv checks it (RFC 3339), narrowed to the instants Bursar can store and print back: years
 * 0001 to 9999 in UTC. PostgreSQL's timestamptz refuses year 0 (`0000-01-01T00:00:00Z`, or `0001-01-01T00:00:00+01:00`),
 * and JavaScript prints a year past 9999 as `+010000-…`, which PostgreSQL does not read: either would fail deep in a
 * use case as a 500 instead of a validation error naming the field.
 */
import type { FastifyServerOptions } from 'fastify';

type AjvInstance = Parameters<NonNullable<NonNullable<FastifyServerOptions['ajv']>['onCreate']>>[0];

const FIRST_INSTANT_MS = new Date('0001-01-01T00:00:00.000Z').getTime();
const LAST_INSTANT_MS = new Date('9999-12-31T23:59:59.999Z').getTime();

export function isStorableInstant(value: string): boolean {
  const ms = Date.parse(value);
  return Number.isFinite(ms) && ms >= FIRST_INSTANT_MS && ms <= LAST_INSTANT_MS;
}

/** For the `ajv.onCreate` option: wraps the `date-time` format already installed (ajv-formats) with the range check. */
export function narrowDateTimeFormat(ajv: AjvInstance): void {
  const rfc3339 = ajv.formats['date-time'];
  if (typeof rfc3339 !== 'object' || rfc3339 === null || !('validate' in rfc3339) || typeof rfc3339.validate !== 'function') {
    throw new Error('Ajv has no date-time format to narrow');
  }
  const { validate, compare } = rfc3339 as { validate: (value: string) => boolean; compare?: (a: string, b: string) => number | undefined };
  ajv.addFormat('date-time', { type: 'string', validate: (value: string) => validate(value) && isStorableInstant(value), ...(compare ? { compare } : {}) });
}
