import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { FastifyRequest } from 'fastify';
import { isStorableText, refuseUnstorableStrings } from '../../src/http/storable-strings.js';
import { toProblem } from '../../src/http/problem.js';

describe('isStorableText', () => {
  test('plain text, empty text and surrogate pairs are storable', () => {
    for (const value of ['', 'Hauptstraße 1', '東京', 'Rocket \ud83d\ude80', '\ud83d\ude80\ud83d\ude80', 'tab\tand\nnewline']) {
      assert.equal(isStorableText(value), true, JSON.stringify(value));
    }
  });

  test('a NUL anywhere, or a surrogate without its partner, is not', () => {
    for (const value of ['\u0000', 'a\u0000', '\ud83d', 'x\ud83dy', '\ude80', '\ude80\ud83d', '\ud83d\ud83d\ude80', '\ud83d\ude80\ude80']) {
      assert.equal(isStorableText(value), false, JSON.stringify(value));
    }
  });
});

describe('refuseUnstorableStrings', () => {
  const request = (parts: { params?: unknown; query?: unknown; body?: unknown }) => ({ params: {}, query: {}, ...parts }) as FastifyRequest;

  async function problemOf(parts: Parameters<typeof request>[0]) {
    try {
      await refuseUnstorableStrings(request(parts));
    } catch (error) {
      return toProblem(error);
    }
    return null;
  }

  test('passes a request whose strings are all storable', async () => {
    assert.equal(await problemOf({ params: { id: 'x' }, body: { name: 'Acme', tags: ['a', { b: 'c' }], n: 1, ok: true, none: null } }), null);
  });

  test('names every bad field of the first part that has one, as a validation error', async () => {
    const problem = await problemOf({ query: { q: 'ok' }, body: { name: 'a\u0000b', lines: ['fine', '\ud800'], nested: { 'key\u0000': 1 } } });
    assert.equal(problem?.status, 400);
    assert.equal(problem?.kind, 'schema');
    // Array indexes as `lines.1` or `lines[1]`, whichever style the problem mapper writes.
    assert.deepEqual(
      problem?.fields.map((f) => [f.field.replace(/\[(\d+)\]/g, '.$1'), f.reason, f.location]),
      [
        ['name', 'characters', 'body'],
        ['lines.1', 'characters', 'body'],
        ['nested.key\ufffd', 'characters', 'body'],
      ],
    );
    assert.match(problem!.fields[0]!.message, /NUL/);
    assert.match(problem!.fields[1]!.message, /surrogate/);
  });

  test('the path comes before the query and the body', async () => {
    const problem = await problemOf({ params: { userId: '\u0000' }, query: { type: '\u0000' }, body: { name: '\u0000' } });
    assert.deepEqual(
      problem?.fields.map((f) => [f.field, f.location]),
      [['userId', 'params']],
    );
  });

  test('a body nested far deeper than the call stack is walked without overflowing it', async () => {
    let body: unknown = 'bottom\u0000';
    for (let depth = 0; depth < 200_000; depth++) body = [body];
    const problem = await problemOf({ body });
    assert.equal(problem?.fields.length, 1);
  });
});
