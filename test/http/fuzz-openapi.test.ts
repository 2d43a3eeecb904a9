/**
 * Property-based fuzzing of every route in /openapi.json: requests are generated from the route's own schemas, valid
 * ones and hostile ones (wrong types, oversize and odd strings, NUL and lone surrogates, odd path parameters,
 * malformed bodies), sent with the operator token, a member's JWT, an API token or no credentials. Whatever comes in,
 * Bursar answers no 5xx, and every 4xx has a JSON body.
 *
 * Bounded: BURSAR_FUZZ_RUNS requests per route (default 8; about 400 requests in all). BURSAR_FUZZ_SEED replays a run.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import { createOrganization, http, startTestApp, type OrganizationFixture, type TestApp } from '../support/test-app.js';
import { acmeBillingInfo, changePlan, putPlan, registerCluster, runBilling, sendUsage, setBillingInfo } from './invoice-fixtures.js';

type Schema = Record<string, any>;

interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header';
  schema: Schema;
}

interface Operation {
  method: string;
  path: string;
  parameters: Parameter[];
  body: Schema | null;
}

interface FuzzRequest {
  url: string;
  headers: Record<string, string>;
  body?: string;
}

const RUNS_PER_ROUTE = Number(process.env.BURSAR_FUZZ_RUNS ?? 8);
const SEED = Number(process.env.BURSAR_FUZZ_SEED ?? Date.now() % 2 ** 31);

let app: TestApp;
let org: OrganizationFixture;
let otherOrg: OrganizationFixture;
let apiToken: string;
let operations: Operation[];
let document: Schema;
/** Values seen in answers while warming up (ids, codes, slugs), so that fuzzed requests also reach existing rows. */
const seen = { ids: new Set<string>(), codes: new Set<string>() };

before(async () => {
  app = await startTestApp();
  app.clock.set(new Date('2026-10-01T00:00:00Z'));
  org = await createOrganization(app);
  otherOrg = await createOrganization(app);
  const token = await http(app, 'POST', `/admin/organizations/${org.id}/api-tokens`, { headers: app.admin, body: { name: 'fuzz', role: 'admin' } });
  assert.equal(token.status, 201, token.text);
  apiToken = token.body.token;
  // One issued invoice, so that invoice routes also meet a row that exists.
  await putPlan(app, 'BUSINESS', { monthly: 3000, kind: 'invoiced' });
  await setBillingInfo(app, org, acmeBillingInfo);
  const cluster = await registerCluster(app, org.id, { name: 'prod', hourly: 10, minNodes: 0, maxNodes: 2, activeFrom: '2026-10-01T00:00:00Z' });
  await changePlan(app, org, 'BUSINESS');
  app.clock.set(new Date('2026-10-20T00:00:00Z'));
  await sendUsage(app, org.id, cluster, 100, '2026-10-20T00:00:00Z');
  app.clock.set(new Date('2026-11-01T00:00:05Z'));
  await runBilling(app, '2026-11-01T00:00:00Z');
  document = (await http(app, 'GET', '/openapi.json')).body;
  operations = Object.entries<Schema>(document.paths).flatMap(([path, item]) =>
    Object.entries<Schema>(item)
      .filter(([method]) => ['get', 'post', 'put', 'patch', 'delete'].includes(method))
      .map(([method, operation]) => ({
        method: method.toUpperCase(),
        path,
        parameters: (operation.parameters ?? []).map((p: Schema) => ({ name: p.name, in: p.in, schema: resolve(p.schema ?? {}) })),
        body: operation.requestBody?.content?.['application/json']?.schema ? resolve(operation.requestBody.content['application/json'].schema) : null,
      })),
  );
});

after(async () => {
  await app?.close();
});

function resolve(schema: Schema): Schema {
  let current = schema;
  while (typeof current.$ref === 'string') {
    current = current.$ref
      .replace(/^#\//, '')
      .split('/')
      .reduce((node: Schema, key: string) => node[key.replace(/~1/g, '/').replace(/~0/g, '~')], document);
  }
  return current;
}

// ---- values -------------------------------------------------------------------------------------------------------

/** The value one time in five, null otherwise. */
const rarely = <T>(arbitrary: fc.Arbitrary<T>): fc.Arbitrary<T | null> =>
  fc.oneof({ weight: 4, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: arbitrary });

const hostileStrings = [
  '',
  ' ',
  'a\u0000b',
  '\u0000',
  'x\ud83dy',
  '\ude00',
  '\ud83d\ude80',
  '\u202egnp.exe',
  'x'.repeat(5000),
  "'; DROP TABLE organizations; --",
  '../../etc/passwd',
  '%00',
  '<script>alert(1)</script>',
  '0',
  '-1',
  'NaN',
  '9'.repeat(40),
  '1e309',
  'null',
  '2024-13-45T99:99:99Z',
  '0000-01-01T00:00:00Z',
  '9999-12-31T23:59:59Z',
  '1969-12-31T23:59:59.999Z',
  '00000000-0000-0000-0000-000000000000',
  'FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF',
];

const hostileString: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...hostileStrings) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 30 }) },
  { weight: 1, arbitrary: fc.string({ unit: fc.constantFrom('\u0000', '\ud800', '\udfff', 'a', 'é', '\n'), maxLength: 12 }) },
);

const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: hostileString },
  { weight: 2, arbitrary: fc.constantFrom<unknown>(null, true, false, 0, -1, 1.5, 1e308, -1e308, 2 ** 53, 2 ** 63, -(2 ** 31), [], {}, [null], { '': 1 }) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 1, arbitrary: fc.constant(JSON.parse('['.repeat(2000) + ']'.repeat(2000))) },
);

const countryCodes = ['DE', 'US', 'FR', 'JP', 'GB', 'BH', 'ZZ'];
const countryNames = ['Germany', 'United States', 'France', 'Japan', 'Deutschland', 'Atlantis'];

/** Values that get past the core's own checks for fields named so: the deeper a request goes, the more it tests. */
function hinted(name: string | undefined): fc.Arbitrary<unknown> | null {
  switch (name) {
    case 'country':
    case 'country_code':
    case 'billing_country':
      return fc.constantFrom(...countryCodes);
    case 'billingCountry':
      return fc.constantFrom(...countryNames);
    case 'currency':
      return fc.constantFrom('USD', 'EUR', 'JPY', 'BHD', 'XXX');
    case 'organization_id':
      return fc.constantFrom(org.id, otherOrg.id);
    case 'plan':
    case 'code':
      return seen.codes.size > 0 ? fc.constantFrom(...seen.codes) : null;
    case 'cluster_id':
    case 'clusterId':
      return seen.ids.size > 0 ? fc.constantFrom(...seen.ids) : null;
    default:
      return null;
  }
}

function typesOf(schema: Schema): string[] {
  if (Array.isArray(schema.type)) return schema.type;
  if (typeof schema.type === 'string') return [schema.type];
  if (schema.properties) return ['object'];
  return [];
}

/** A value the schema accepts (as far as a generator can tell: patterns and formats included). */
function validValue(input: Schema, name?: string): fc.Arbitrary<unknown> {
  const schema = resolve(input);
  if (schema.const !== undefined) return fc.constant(schema.const);
  if (Array.isArray(schema.enum)) return fc.constantFrom(...schema.enum);
  const branches = schema.anyOf ?? schema.oneOf;
  if (Array.isArray(branches)) return fc.oneof(...branches.map((branch: Schema) => validValue(branch, name)));
  const types = typesOf(schema);
  if (types.length === 0) return fc.jsonValue({ maxDepth: 2 });
  if (types.length > 1) return fc.oneof(...types.map((type) => validValue({ ...schema, type }, name)));
  const hint = hinted(name);
  if (hint && types[0] !== 'object' && types[0] !== 'array') return hint;
  switch (types[0]) {
    case 'object': {
      const properties = Object.entries<Schema>(schema.properties ?? {});
      const record = Object.fromEntries(properties.map(([key, value]) => [key, validValue(value, key)]));
      return fc.record(record, { requiredKeys: schema.required ?? [] });
    }
    case 'array':
      return fc.array(validValue(schema.items ?? {}, name), { minLength: schema.minItems ?? 0, maxLength: Math.min(schema.maxItems ?? 3, 3) });
    case 'string':
      return validString(schema);
    case 'integer':
      return fc.integer({ min: Math.max(schema.minimum ?? -1000, -(2 ** 31)), max: Math.min(schema.maximum ?? 1_000_000, 2 ** 31) });
    case 'number':
      return fc.double({ min: schema.minimum ?? -1e6, max: schema.maximum ?? 1e6, noNaN: true });
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    default:
      return fc.jsonValue({ maxDepth: 2 });
  }
}

function validString(schema: Schema): fc.Arbitrary<string> {
  switch (schema.format) {
    case 'uuid':
      return seen.ids.size > 0 ? fc.oneof(fc.constantFrom(...seen.ids), fc.uuid()) : fc.uuid();
    case 'email':
      return fc.emailAddress();
    case 'date-time':
      return fc
        .date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2040-01-01T00:00:00Z'), noInvalidDate: true })
        .map((date) => date.toISOString());
    case 'date':
      return fc.date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2040-01-01T00:00:00Z'), noInvalidDate: true }).map((date) => date.toISOString().slice(0, 10));
  }
  if (typeof schema.pattern === 'string') return fc.stringMatching(new RegExp(schema.pattern), { size: 'xsmall' });
  const minLength = schema.minLength ?? 0;
  return fc.string({ minLength, maxLength: Math.max(minLength, Math.min(schema.maxLength ?? 24, 24)), unit: 'grapheme' });
}

/** Mostly the schema's shape with some parts replaced by hostile values, and sometimes an unknown field. */
function mutatedValue(input: Schema, name?: string): fc.Arbitrary<unknown> {
  const schema = resolve(input);
  const types = typesOf(schema);
  let shaped: fc.Arbitrary<unknown>;
  if (types[0] === 'object' && types.length === 1) {
    const properties = Object.entries<Schema>(schema.properties ?? {});
    const record = Object.fromEntries(properties.map(([key, value]) => [key, mutatedValue(value, key)]));
    shaped = fc
      .tuple(fc.record(record, { requiredKeys: [] }), rarely(fc.tuple(fc.oneof(fc.string(), hostileString), hostileValue)))
      .map(([value, extra]) => (extra ? { ...value, [extra[0]]: extra[1] } : value));
  } else if (types[0] === 'array' && types.length === 1) {
    shaped = fc.array(mutatedValue(schema.items ?? {}, name), { maxLength: 4 });
  } else {
    shaped = validValue(schema, name);
  }
  return fc.oneof({ weight: 4, arbitrary: shaped }, { weight: 1, arbitrary: hostileValue });
}

/** A valid value but for one part, replaced by a hostile value: the request gets past the other checks to that one. */
function oneHostileValue(input: Schema, name?: string): fc.Arbitrary<unknown> {
  const schema = resolve(input);
  const types = typesOf(schema);
  const properties = Object.keys(schema.properties ?? {});
  if (types[0] === 'object' && properties.length > 0) {
    return fc
      .constantFrom(...properties)
      .chain((key) =>
        fc.tuple(validValue(schema, name), oneHostileValue(schema.properties[key], key)).map(([value, hostile]) => ({ ...(value as object), [key]: hostile })),
      );
  }
  if (types[0] === 'array' && schema.items) {
    return fc
      .tuple(validValue(schema, name), oneHostileValue(schema.items, name))
      .map(([value, hostile]) => [hostile, ...(value as unknown[]).slice(1)]);
  }
  return types.includes('string') ? fc.oneof(hostileString, hostileValue) : hostileValue;
}

/** Raw body text and its content type; undefined sends no body. */
type RawBody = { text: string; contentType: string } | undefined;

function bodyOf(operation: Operation): fc.Arbitrary<RawBody> {
  const json = (value: fc.Arbitrary<unknown>) => value.map((v): RawBody => ({ text: JSON.stringify(v) ?? 'null', contentType: 'application/json' }));
  const malformed = fc.constantFrom<RawBody>(
    { text: '{"name":', contentType: 'application/json' },
    { text: '', contentType: 'application/json' },
    { text: 'name=x', contentType: 'application/x-www-form-urlencoded' },
    { text: 'plain words', contentType: 'text/plain' },
    { text: JSON.stringify({ padding: 'x'.repeat(70 * 1024) }), contentType: 'application/json' },
    { text: '{"__proto__":{"admin":true},"constructor":{"prototype":{"x":1}}}', contentType: 'application/json' },
    { text: '"\\ud800"', contentType: 'application/json' },
  );
  if (operation.method === 'GET') return fc.constant(undefined);
  if (!operation.body) return fc.oneof({ weight: 4, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: malformed });
  return fc.oneof(
    { weight: 3, arbitrary: json(validValue(operation.body)) },
    { weight: 4, arbitrary: json(oneHostileValue(operation.body)) },
    { weight: 1, arbitrary: json(mutatedValue(operation.body)) },
    { weight: 1, arbitrary: json(fc.jsonValue({ maxDepth: 3 })) },
    { weight: 1, arbitrary: malformed },
  );
}

// ---- URLs and headers -----------------------------------------------------------------------------------------------

/** Percent-encodes like encodeURIComponent, and a lone surrogate as its three (invalid UTF-8) bytes as a careless client would. */
function encode(value: string): string {
  let encoded = '';
  for (let index = 0; index < value.length; index += 1) {
    const unit = value.charCodeAt(index);
    const next = value.charCodeAt(index + 1);
    if (unit >= 0xd800 && unit <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
      encoded += encodeURIComponent(value.slice(index, index + 2));
      index += 1;
    } else if (unit >= 0xd800 && unit <= 0xdfff) {
      encoded += [0xe0 | (unit >> 12), 0x80 | ((unit >> 6) & 0x3f), 0x80 | (unit & 0x3f)].map((byte) => `%${byte.toString(16).toUpperCase()}`).join('');
    } else {
      encoded += encodeURIComponent(value[index]!);
    }
  }
  return encoded;
}

const rawPathSegments = ['%00', 'a%00b', '%ED%A0%BD', '%F0%9F%9A%80', '..', '%2E%2E', '%2F', 'x'.repeat(300), '%', '%zz', '%20', "'", 'a;b', '%0d%0a'];

function pathValue(parameter: Parameter): fc.Arbitrary<string> {
  const known: string[] = [];
  if (['organizationId', 'id'].includes(parameter.name)) known.push(org.id, org.id, otherOrg.id);
  if (parameter.name === 'slug') known.push(org.slug, otherOrg.slug);
  if (parameter.name === 'userId') known.push(`member-${org.id}`, `owner-${org.id}`, 'nobody');
  if (parameter.name === 'code') known.push(...seen.codes);
  if (parameter.name === 'fileName') known.push(...[...seen.ids].slice(0, 5).flatMap((id) => [`${id}.pdf`, `${id}.zip`]));
  if (known.length === 0) known.push(...seen.ids);
  return fc.oneof(
    ...(known.length > 0 ? [{ weight: 8, arbitrary: fc.constantFrom(...known).map(encode) }] : []),
    { weight: 2, arbitrary: validValue(parameter.schema, parameter.name).map((value) => encode(String(value))) },
    { weight: 1, arbitrary: hostileString.map(encode) },
    { weight: 1, arbitrary: fc.constantFrom(...rawPathSegments) },
  );
}

function queryOf(operation: Operation): fc.Arbitrary<string> {
  const parameters = operation.parameters.filter((p) => p.in === 'query');
  const entries = parameters.map((parameter) =>
    fc.option(
      fc.oneof(validValue(parameter.schema, parameter.name).map(String), hostileString).map((value) => `${parameter.name}=${encode(value)}`),
      { freq: 2 },
    ),
  );
  const extra = rarely(fc.constantFrom('unknown=1', 'limit=-1', 'limit=99999', 'limit=1&limit=2', '%00=1', 'type=%ED%A0%BD'));
  return fc.tuple(fc.tuple(...entries), extra).map(([values, more]) => {
    const parts = [...values, more].filter((part): part is string => part !== null);
    return parts.length > 0 ? `?${parts.join('&')}` : '';
  });
}

type Credential = 'operator' | 'owner' | 'member' | 'other-organization' | 'api-token' | 'session-cookie' | 'none' | 'garbage';

function credentialHeaders(credential: Credential): Record<string, string> {
  switch (credential) {
    case 'operator':
      return app.admin;
    case 'owner':
      return org.owner;
    case 'member':
      return org.member;
    case 'other-organization':
      return otherOrg.owner;
    case 'api-token':
      return { authorization: `Token ${apiToken}` };
    case 'session-cookie':
      return { cookie: `__session=${org.owner.authorization!.slice('Bearer '.length)}` };
    case 'none':
      return {};
    case 'garbage':
      return { authorization: 'Bearer not.a.jwt' };
  }
}

/** Mostly the credentials the route is for, so that most requests get past authentication. */
function credentialsFor(operation: Operation): fc.Arbitrary<Credential> {
  const others: Credential[] = ['member', 'other-organization', 'api-token', 'session-cookie', 'none', 'garbage'];
  const usual: Credential[] = operation.path.startsWith('/admin/') ? ['operator'] : ['owner', 'operator'];
  return fc.oneof({ weight: 2, arbitrary: fc.constantFrom(...usual) }, { weight: 1, arbitrary: fc.constantFrom(...others) });
}

/** Header values fetch can send (Latin-1, no control characters). */
const headerValue = fc.constantFrom('', ' ', 'x'.repeat(300), 'é', '"1"', '*', 'W/"5"', '"99999999999999999999"', 'garbage', '00000000-0000-4000-8000-000000000000');

function requestOf(operation: Operation, credentials: fc.Arbitrary<Credential>): fc.Arbitrary<FuzzRequest> {
  const pathParameters = operation.parameters.filter((p) => p.in === 'path');
  const idempotent = operation.parameters.some((p) => p.in === 'header' && p.name === 'idempotency-key');
  return fc
    .record({
      path: fc.tuple(...pathParameters.map(pathValue)),
      query: queryOf(operation),
      body: bodyOf(operation),
      credential: credentials,
      idempotencyKey: idempotent ? fc.option(fc.oneof({ weight: 3, arbitrary: fc.uuid() }, { weight: 1, arbitrary: headerValue })) : fc.constant(null),
      ifMatch: ['PUT', 'PATCH', 'POST'].includes(operation.method) ? rarely(headerValue) : fc.constant(null),
    })
    .map(({ path, query, body, credential, idempotencyKey, ifMatch }) => {
      let url = operation.path;
      pathParameters.forEach((parameter, index) => {
        url = url.replace(`{${parameter.name}}`, path[index]!);
      });
      const headers: Record<string, string> = { ...credentialHeaders(credential) };
      if (idempotencyKey !== null) headers['idempotency-key'] = idempotencyKey;
      if (ifMatch !== null) headers['if-match'] = ifMatch;
      if (body) headers['content-type'] = body.contentType;
      return { url: url + query, headers, ...(body ? { body: body.text } : {}) };
    });
}

// ---- sending and checking -------------------------------------------------------------------------------------------

interface Answer {
  status: number;
  contentType: string;
  text: string;
}

async function send(operation: Operation, request: FuzzRequest): Promise<Answer> {
  const response = await fetch(`${app.baseUrl}${request.url}`, {
    method: operation.method,
    headers: request.headers,
    body: request.body,
    signal: AbortSignal.timeout(15_000),
  });
  return { status: response.status, contentType: response.headers.get('content-type') ?? '', text: await response.text() };
}

/** Why the answer breaks the contract, or null. */
function contractBreach(answer: Answer): string | null {
  if (answer.status >= 500) return `answered ${answer.status}`;
  if (answer.status >= 400) {
    if (!answer.contentType.includes('json')) return `answered ${answer.status} with content type "${answer.contentType}"`;
    try {
      const body: unknown = JSON.parse(answer.text);
      if (typeof body !== 'object' || body === null) return `answered ${answer.status} with a JSON body that is not an object`;
    } catch {
      return `answered ${answer.status} with a body that is not JSON`;
    }
  }
  return null;
}

function harvest(value: unknown, key?: string): void {
  if (Array.isArray(value)) value.forEach((item) => harvest(item, key));
  else if (typeof value === 'object' && value !== null) Object.entries(value).forEach(([k, v]) => harvest(v, k));
  else if (typeof value === 'string') {
    if (key === 'id' || key?.endsWith('_id') || key?.endsWith('Id')) seen.ids.add(value);
    if (key === 'code') seen.codes.add(value);
  }
}

const shown = (text: string | undefined) => (text === undefined ? '' : text.length > 300 ? `${text.slice(0, 300)}… (${text.length} chars)` : text);

test('every route answers hostile and valid requests without a 5xx, with a JSON body on every 4xx', { timeout: 300_000 }, async () => {
  assert.ok(operations.length >= 40, `only ${operations.length} operations in /openapi.json`);

  // Warm up: valid requests by the operator and an owner; the ids and codes they answer are reused by the fuzzing.
  for (const [index, operation] of operations.entries()) {
    const requests = fc.sample(
      requestOf(operation, fc.constantFrom<Credential>('operator', 'owner')).filter((request) => !request.url.includes('%') && !('if-match' in request.headers)),
      { numRuns: 2, seed: SEED + index },
    );
    for (const request of requests) {
      const answer = await send(operation, request);
      if (answer.status < 300 && answer.contentType.includes('json')) harvest(JSON.parse(answer.text));
    }
  }

  const breaches: string[] = [];
  let requests = 0;
  for (const [index, operation] of operations.entries()) {
    const property = fc.asyncProperty(fc.limitShrink(requestOf(operation, credentialsFor(operation)), 30), async (request) => {
      requests += 1;
      const answer = await send(operation, request);
      const breach = contractBreach(answer);
      if (breach) throw new Error(`${breach}: ${shown(answer.text)}`);
    });
    const details = await fc.check(property, { numRuns: RUNS_PER_ROUTE, seed: SEED + 1000 + index });
    if (details.failed && details.counterexample) {
      const [request] = details.counterexample;
      const reason = details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance);
      breaches.push(`${operation.method} ${operation.path} ${reason}\n    request: ${operation.method} ${request.url} ${JSON.stringify(request.headers)} ${shown(request.body)}`);
    }
  }
  assert.deepEqual(breaches, [], `seed ${SEED} (BURSAR_FUZZ_SEED=${SEED} replays it):\n${breaches.join('\n')}`);
  assert.ok(requests >= operations.length * RUNS_PER_ROUTE, `${requests} requests`);
});
