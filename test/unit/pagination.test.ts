/** src/domain/pagination.ts: page sizes and opaque cursors of the operator lists. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BillingError } from '../../src/errors.js';
import { decodeCursor, encodeCursor, MAX_PAGE_SIZE, pageOf, pageRequest, pageSize } from '../../src/domain/pagination.js';

describe('pagination', () => {
  test('a page size defaults to 50 and must be 1 to 200', () => {
    assert.equal(pageSize(undefined), 50);
    assert.equal(pageSize(1), 1);
    assert.equal(pageSize(MAX_PAGE_SIZE), 200);
    for (const bad of [0, 201, 2.5, Number.NaN]) assert.equal(pageSize(bad), null, String(bad));
  });

  test('a cursor round-trips its position; anything else is no cursor', () => {
    for (const position of ['42', 'acme-inc', '0b7c1e9a-1d1b-4c36-9a53-0c7d9b1e2f3a']) assert.equal(decodeCursor(encodeCursor(position)), position);
    for (const bad of ['', 'not-a-cursor', '%%%', encodeCursor('').slice(0, 1)]) assert.equal(decodeCursor(bad), null, bad);
  });

  test('a page of limit + 1 rows keeps limit rows and points after the last one', () => {
    const rows = [{ key: 'a' }, { key: 'b' }, { key: 'c' }];
    assert.deepEqual(pageOf(rows, 2, (row) => row.key), { items: rows.slice(0, 2), nextCursor: encodeCursor('b') });
    assert.deepEqual(pageOf(rows, 3, (row) => row.key), { items: rows, nextCursor: null });
  });

  test('a page request names a bad limit or a cursor that is not of this list', () => {
    const digits = (position: string) => /^[0-9]+$/.test(position);
    assert.deepEqual(pageRequest({}, digits), { limit: 50, after: null });
    assert.deepEqual(pageRequest({ limit: 2, cursor: encodeCursor('41') }, digits), { limit: 2, after: '41' });
    assert.throws(
      () => pageRequest({ limit: 500, cursor: encodeCursor('acme') }, digits),
      (error: unknown) => error instanceof BillingError && error.fieldErrors.map((f) => f.field).join() === 'limit,cursor',
    );
  });
});
