/** Which driver errors mean "the database cannot be reached", and how that reaches a surface: 503 with Retry-After. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isConnectionError } from '../../src/db/database.js';
import { databaseUnavailable } from '../../src/errors.js';
import { toProblem } from '../../src/http/problem.js';

const withCode = (code: string) => Object.assign(new Error(code), { code });

test('connection faults are told apart from a statement that failed', () => {
  for (const error of [
    withCode('ECONNREFUSED'),
    withCode('ECONNRESET'),
    withCode('57P01'), // terminating connection due to administrator command
    withCode('57P02'),
    withCode('57P03'), // the database system is starting up
    withCode('08006'),
    withCode('08001'),
    new Error('Connection terminated unexpectedly'),
    new Error('Client has encountered a connection error and is not queryable'),
    new Error('timeout exceeded when trying to connect'),
  ]) {
    assert.equal(isConnectionError(error), true, error.message);
  }
  for (const error of [withCode('23505'), withCode('40001'), withCode('57014'), new Error('syntax error'), 'ECONNREFUSED', null]) {
    assert.equal(isConnectionError(error), false, String(error));
  }
});

test('database_unavailable is a 503 that asks for a retry', () => {
  const problem = toProblem(databaseUnavailable(withCode('ECONNREFUSED')));
  assert.equal(problem.status, 503);
  assert.equal(problem.code, 'database_unavailable');
  assert.equal(problem.retryAfterSeconds, 5);
});
