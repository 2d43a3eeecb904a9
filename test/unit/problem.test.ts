/** src/http/problem.ts: every error reduced to one shape (fields named); ETags and If-Match parsing (src/http/billing-profile-versions.ts). */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import Fastify from 'fastify';
import { Type } from '@fastify/type-provider-typebox';
import { BillingError, conflict, invalidInput, notFound } from '../../src/errors.js';
import { etagOf, versionFromIfMatch } from '../../src/http/billing-profile-versions.js';
import { fieldPathSegments, toProblem, type Problem } from '../../src/http/problem.js';
import { nullable } from '../../src/http/schemas.js';
import { PaymentProviderError } from '../../src/providers/payments/payment-provider.js';

const validationError = (validation: unknown[], validationContext = 'body') => Object.assign(new Error('validation failed'), { validation, validationContext, statusCode: 400 });

describe('toProblem: Ajv issues → named fields', () => {
  test('required and additionalProperties name the property itself', () => {
    const problem = toProblem(
      validationError([
        { instancePath: '', keyword: 'required', params: { missingProperty: 'email' }, message: "must have required property 'email'" },
        { instancePath: '', keyword: 'additionalProperties', params: { additionalProperty: 'phone' }, message: 'must NOT have additional properties' },
      ]),
    );
    assert.equal(problem.status, 400);
    assert.equal(problem.kind, 'schema');
    assert.equal(problem.code, 'validation_error');
    assert.deepEqual(problem.fields, [
      { field: 'email', message: 'is required', reason: 'required', location: 'body', domain: false },
      { field: 'phone', message: 'is not a known field', reason: 'additionalProperties', location: 'body', domain: false },
    ]);
  });

  test('an instance path becomes a field path (`events[0].metric`); nested required properties are appended', () => {
    const problem = toProblem(
      validationError([
        { instancePath: '/city', keyword: 'maxLength', params: { limit: 128 }, message: 'must NOT have more than 128 characters' },
        { instancePath: '/address/lines/0', keyword: 'type', params: { type: 'string' }, message: 'must be string' },
        { instancePath: '/address', keyword: 'required', params: { missingProperty: 'zip' }, message: 'x' },
      ]),
    );
    assert.deepEqual(
      problem.fields.map((f) => [f.field, f.reason, f.message]),
      [
        ['city', 'maxLength', 'must NOT have more than 128 characters'],
        ['address.lines[0]', 'type', 'must be string'],
        ['address.zip', 'required', 'is required'],
      ],
    );
  });

  test('the null branch and the anyOf summary of a nullable field are dropped; duplicates too', () => {
    const problem = toProblem(
      validationError([
        { instancePath: '/state', keyword: 'type', params: { type: 'string' }, message: 'must be string' },
        { instancePath: '/state', keyword: 'type', params: { type: 'null' }, message: 'must be null' },
        { instancePath: '/state', keyword: 'anyOf', params: {}, message: 'must match a schema in anyOf' },
        { instancePath: '/state', keyword: 'type', params: { type: 'string' }, message: 'must be string' },
      ]),
    );
    assert.deepEqual(problem.fields.map((f) => [f.field, f.reason]), [['state', 'type']]);
  });

  test('an enum error lists the allowed values (a union of literals reports one `const` issue per value)', () => {
    const problem = toProblem(
      validationError([
        { instancePath: '/kind', keyword: 'const', params: { allowedValue: 'credits' }, message: 'must be equal to constant' },
        { instancePath: '/kind', keyword: 'const', params: { allowedValue: 'invoiced' }, message: 'must be equal to constant' },
        { instancePath: '/kind', keyword: 'anyOf', params: {}, message: 'must match a schema in anyOf' },
        { instancePath: '/events/2/metric', keyword: 'const', params: { allowedValue: 'node_hours' }, message: 'must be equal to constant' },
        { instancePath: '/status', keyword: 'enum', params: { allowedValues: ['paid', 'void'] }, message: 'must be equal to one of the allowed values' },
        { instancePath: '/role', keyword: 'const', params: { allowedValue: 'owner' }, message: 'must be equal to constant' },
        { instancePath: '/role', keyword: 'type', params: { type: 'null' }, message: 'must be null' },
        { instancePath: '/role', keyword: 'anyOf', params: {}, message: 'must match a schema in anyOf' },
      ]),
    );
    assert.deepEqual(
      problem.fields.map((f) => [f.field, f.reason, f.message]),
      [
        ['kind', 'enum', 'must be one of "credits", "invoiced"'],
        ['events[2].metric', 'enum', 'must be "node_hours"'],
        ['status', 'enum', 'must be one of "paid", "void"'],
        ['role', 'enum', 'must be one of "owner", null'],
      ],
    );
  });

  test('field paths split into the segments of a location list', () => {
    assert.deepEqual(fieldPathSegments('events[12].cluster_id'), ['events', 12, 'cluster_id']);
    assert.deepEqual(fieldPathSegments('billing_city'), ['billing_city']);
    assert.deepEqual(fieldPathSegments('address.lines[0]'), ['address', 'lines', 0]);
  });

  test('a whole-body issue is named (body); the validation context is the location', () => {
    const body = toProblem(validationError([{ instancePath: '', keyword: 'type', params: { type: 'object' }, message: 'must be object' }]));
    assert.equal(body.fields[0]!.field, '(body)');
    const params = toProblem(validationError([{ instancePath: '/organizationId', keyword: 'format', params: { format: 'uuid' }, message: 'must match format "uuid"' }], 'params'));
    assert.deepEqual(params.fields.map((f) => [f.field, f.location]), [['organizationId', 'params']]);
    const noMessage = toProblem(validationError([{ keyword: 'pattern' }]));
    assert.equal(noMessage.fields[0]!.message, 'is invalid');
  });

  test('with the real validator (Fastify + TypeBox, the server\'s Ajv options) each bad field is named once', async () => {
    const app = Fastify({ ajv: { customOptions: { allErrors: true, coerceTypes: false, removeAdditional: false } } });
    let captured: Problem | undefined;
    app.setErrorHandler((error, _request, reply) => {
      captured = toProblem(error);
      return reply.status(captured.status).send(captured);
    });
    app.put(
      '/thing',
      {
        schema: {
          body: Type.Object(
            {
              name: Type.String({ minLength: 1, maxLength: 5 }),
              email: Type.Optional(nullable(Type.String({ format: 'email' }))),
              state: Type.Optional(nullable(Type.String({ maxLength: 3 }))),
              role: Type.Optional(Type.Union([Type.Literal('owner'), Type.Literal('member')])),
            },
            { additionalProperties: false },
          ),
        },
      },
      async () => ({ ok: true }),
    );
    try {
      const response = await app.inject({
        method: 'PUT',
        url: '/thing',
        payload: { email: 'not-an-email', state: 'toolong', role: 'king', extra: 1 },
      });
      assert.equal(response.statusCode, 400);
      assert.ok(captured);
      assert.deepEqual(
        captured.fields.map((f) => `${f.field}:${f.reason}`).sort(),
        ['email:format', 'extra:additionalProperties', 'name:required', 'role:enum', 'state:maxLength'],
      );
      assert.equal(captured.fields.find((f) => f.field === 'role')?.message, 'must be one of "owner", "member"');
      const typed = await app.inject({ method: 'PUT', url: '/thing', payload: { name: 12, state: 7 } });
      assert.equal(typed.statusCode, 400);
      assert.deepEqual(captured.fields.map((f) => `${f.field}:${f.reason}`).sort(), ['name:type', 'state:type']);
      const malformed = await app.inject({ method: 'PUT', url: '/thing', headers: { 'content-type': 'application/json' }, payload: '{"name":' });
      assert.equal(malformed.statusCode, 400);
      assert.equal(captured.kind, 'malformed');
      const empty = await app.inject({ method: 'PUT', url: '/thing', headers: { 'content-type': 'application/json' }, payload: '' });
      assert.equal(empty.statusCode, 400);
      assert.equal(captured.kind, 'malformed');
      const wrongMedia = await app.inject({ method: 'PUT', url: '/thing', headers: { 'content-type': 'text/csv' }, payload: 'a,b' });
      assert.equal(wrongMedia.statusCode, 415);
      assert.equal(captured.code, 'unsupported_media_type');
    } finally {
      await app.close();
    }
  });
});

describe('toProblem: other errors', () => {
  test('a BillingError keeps its status and code; its fields are domain names', () => {
    const invalid = toProblem(invalidInput([{ field: 'country', reason: 'invalid_country', message: 'must be an ISO 3166-1 alpha-2 country code' }]));
    assert.equal(invalid.status, 422);
    assert.equal(invalid.kind, 'core');
    assert.deepEqual(invalid.fields, [
      { field: 'country', message: 'must be an ISO 3166-1 alpha-2 country code', reason: 'invalid_country', location: 'body', domain: true },
    ]);
    const missing = toProblem(notFound('Organization'));
    assert.deepEqual([missing.status, missing.code, missing.kind, missing.fields], [404, 'not_found', 'other', []]);
    assert.equal(toProblem(conflict('slug_taken', 'taken')).status, 409);
    const noReason = toProblem(new BillingError('x', 422, 'x', [{ field: 'f', message: 'm' }]));
    assert.equal(noReason.fields[0]!.reason, 'invalid');
  });

  test('a payment provider error is 402 with its code', () => {
    const problem = toProblem(new PaymentProviderError('card_declined', 'The card was declined'));
    assert.deepEqual([problem.status, problem.code, problem.message], [402, 'card_declined', 'The card was declined']);
  });

  test('Fastify body errors: too large → 413, bad JSON → 400 malformed, wrong media type → 415', () => {
    assert.equal(toProblem(Object.assign(new Error('too big'), { code: 'FST_ERR_CTP_BODY_TOO_LARGE', statusCode: 413 })).status, 413);
    const malformed = toProblem(Object.assign(new Error('bad'), { code: 'FST_ERR_CTP_INVALID_JSON_BODY', statusCode: 400 }));
    assert.deepEqual([malformed.status, malformed.kind], [400, 'malformed']);
    assert.equal(toProblem(new SyntaxError('Unexpected end of JSON input')).kind, 'malformed');
    assert.equal(toProblem(Object.assign(new Error('media'), { code: 'FST_ERR_CTP_INVALID_MEDIA_TYPE', statusCode: 415 })).status, 415);
    const other4xx = toProblem(Object.assign(new Error('Method not allowed'), { statusCode: 405 }));
    assert.deepEqual([other4xx.status, other4xx.code, other4xx.message], [405, 'bad_request', 'Method not allowed']);
  });

  test('anything else is a generic 500 that reveals nothing', () => {
    for (const error of [new Error('connection string postgres://user:secret@db'), 'a string', null, undefined, 42, { statusCode: 503 }]) {
      const problem = toProblem(error);
      assert.equal(problem.status, 500);
      assert.equal(problem.code, 'internal_error');
      assert.ok(!problem.message.includes('secret'));
    }
  });
});

describe('ETag and If-Match', () => {
  test('etagOf quotes the version', () => {
    assert.equal(etagOf(1n), '"1"');
    assert.equal(etagOf(9007199254740993n), '"9007199254740993"');
  });

  test('absent, empty or * is no precondition', () => {
    assert.equal(versionFromIfMatch(undefined), undefined);
    assert.equal(versionFromIfMatch('*'), undefined);
    assert.equal(versionFromIfMatch(' * '), undefined);
    assert.equal(versionFromIfMatch(''), undefined);
  });

  test('a strong or weak ETag gives its version, and round-trips etagOf', () => {
    assert.equal(versionFromIfMatch('"42"'), 42n);
    assert.equal(versionFromIfMatch('W/"42"'), 42n);
    assert.equal(versionFromIfMatch('  "7"  '), 7n);
    assert.equal(versionFromIfMatch(['"5"', '"6"']), 5n);
    for (const version of [1n, 2n, 123456789012345678n]) assert.equal(versionFromIfMatch(etagOf(version)), version);
  });

  test('anything garbled names a version no resource has (so the write gets 412)', () => {
    for (const garbled of ['42', '"abc"', '"-1"', 'W/42', '"1234567890123456789"', '"1", "2"', 'w/"1"', '"1']) {
      assert.equal(versionFromIfMatch(garbled), -1n, garbled);
    }
  });
});
