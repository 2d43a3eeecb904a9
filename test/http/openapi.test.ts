/** GET /openapi.json (OpenAPI 3.1, from the schemas the routes validate with) and the readable docs at /docs. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { http, startTestApp, type TestApp } from '../support/test-app.js';

let app: TestApp;
let document: any;
before(async () => {
  app = await startTestApp();
  const result = await http(app, 'GET', '/openapi.json');
  assert.equal(result.status, 200);
  document = result.body;
});
after(async () => {
  await app.close();
});

/** The operations of the reference API (../shared/reference/billing-api-subset.openapi.yaml), as a client generated from it calls them. */
const referenceOperations: Array<[method: string, path: string, operationId: string]> = [
  ['GET', '/organization/{organizationId}/currentCost', 'getOrganizationCurrentCost'],
  ['POST', '/organization/{organizationId}/creditCode', 'addCreditCode'],
  ['POST', '/organization/{organizationId}/changePlan', 'changePlan'],
  ['GET', '/organization/{organizationId}/cluster/{clusterId}/currentCost', 'getClusterCurrentCost'],
  ['GET', '/organization/{organizationId}/billingInfo', 'getOrganizationBillingInfo'],
  ['PUT', '/organization/{organizationId}/billingInfo', 'editOrganizationBillingInfo'],
  ['GET', '/organization/{organizationId}/billingStatus', 'getOrganizationBillingStatus'],
  ['POST', '/organization/{organizationId}/billingUsageReport', 'generateBillingUsageReport'],
  ['GET', '/organization/{organizationId}/billingExternalId', 'getOrganizationBillingExternalId'],
  ['GET', '/organization/{organizationId}/invoice', 'listOrganizationInvoice'],
  ['GET', '/organization/{organizationId}/invoice/{invoiceId}', 'getOrganizationInvoice'],
  ['GET', '/organization/{organizationId}/invoice/{invoiceId}/download', 'getOrganizationInvoicePDF'],
  ['POST', '/organization/{organizationId}/downloadInvoices', 'organizationDownloadAllInvoices'],
  ['GET', '/organization/{organizationId}/creditCard', 'listOrganizationCreditCards'],
  ['POST', '/organization/{organizationId}/creditCard', 'addCreditCard'],
  ['DELETE', '/organization/{organizationId}/creditCard/{creditCardId}', 'deleteCreditCard'],
];

/** The routes of the billing profile (issue 2): each must be served and documented. */
const profileOperations: Array<[method: string, path: string, operationId: string]> = [
  ['GET', '/organization/{organizationId}/billingInfo', 'getOrganizationBillingInfo'],
  ['PUT', '/organization/{organizationId}/billingInfo', 'editOrganizationBillingInfo'],
  ['GET', '/api/v2/external/orgs/{slug}', 'getOrg'],
  ['PATCH', '/api/v2/external/orgs/{slug}', 'updateOrg'],
  ['GET', '/api/v1/organization/billing', 'getBillingDetails'],
  ['PATCH', '/api/v1/organization/billing', 'updateBillingDetails'],
  ['POST', '/organizations/{id}/billing-addresses', 'addOrganizationBillingAddress'],
  ['GET', '/organizations/{id}/billing-addresses', 'listOrganizationBillingAddresses'],
  ['PATCH', '/organizations/{id}/billing-addresses/{addressId}', 'updateOrganizationBillingAddress'],
  ['DELETE', '/organizations/{id}/billing-addresses/{addressId}', 'deleteOrganizationBillingAddress'],
  ['POST', '/admin/organizations', 'adminCreateOrganization'],
  ['PUT', '/admin/organizations/{organizationId}/members/{userId}', 'adminSetMember'],
  ['DELETE', '/admin/organizations/{organizationId}/members/{userId}', 'adminRemoveMember'],
  ['GET', '/admin/organizations/{organizationId}/audit-events', 'adminListAuditEvents'],
  ['POST', '/admin/organizations/{organizationId}/api-tokens', 'adminCreateApiToken'],
  ['GET', '/admin/organizations/{organizationId}/api-tokens', 'adminListApiTokens'],
  ['DELETE', '/admin/organizations/{organizationId}/api-tokens/{tokenId}', 'adminRevokeApiToken'],
];

/** Routes that are deliberately left out of the document. */
// The billing page (/portal) answers HTML to browsers, not the API: it is not part of the OpenAPI document.
const undocumented = /^\/(docs|openapi\.json|healthz|readyz|metrics|portal)(?![\w-])/;

/** Every (method, path) the server serves, read from Fastify's route tree; HEAD (automatic for GET) left out. */
function servedRoutes(): Array<{ method: string; path: string }> {
  const tree = app.app.server.printRoutes({ commonPrefix: false });
  const prefixes: string[] = [];
  const routes: Array<{ method: string; path: string }> = [];
  for (const line of tree.split('\n')) {
    const match = /^(.*?)(?:├── |└── )(\S+)(?: \(([^)]*)\))?$/.exec(line);
    if (!match) continue;
    const depth = Math.round(match[1]!.length / 4);
    const path = `${depth === 0 ? '' : prefixes[depth - 1]}${match[2]}`;
    prefixes[depth] = path;
    for (const method of (match[3] ?? '').split(',').map((m) => m.trim()).filter(Boolean)) {
      if (method !== 'HEAD') routes.push({ method, path: path.replace(/:(\w+)/g, '{$1}') });
    }
  }
  return routes;
}

function operation(method: string, path: string): any {
  return document.paths?.[path]?.[method.toLowerCase()];
}

describe('/openapi.json', () => {
  test('is an OpenAPI 3.1 document, served without credentials', async () => {
    assert.match(document.openapi, /^3\.1\.\d+$/);
    assert.equal(typeof document.info.title, 'string');
    assert.equal(typeof document.info.version, 'string');
    assert.ok(document.components.securitySchemes.bearerAuth);
    assert.ok(document.components.securitySchemes.ApiKeyAuth);
  });

  test('every route the server serves is documented, each with a unique operationId', () => {
    const routes = servedRoutes().filter((route) => !undocumented.test(route.path));
    assert.ok(routes.length >= profileOperations.length, `parsed ${routes.length} routes`);
    const missing = routes.filter((route) => !operation(route.method, route.path)?.operationId);
    assert.deepEqual(missing, []);
    const ids = Object.values<Record<string, { operationId: string }>>(document.paths).flatMap((ops) => Object.values(ops).map((op) => op.operationId));
    assert.equal(new Set(ids).size, ids.length, 'operationIds are unique');
    // And nothing is documented that is not served.
    const served = new Set(routes.map((route) => `${route.method} ${route.path}`));
    for (const [path, ops] of Object.entries<Record<string, unknown>>(document.paths)) {
      for (const method of Object.keys(ops)) assert.ok(served.has(`${method.toUpperCase()} ${path}`), `${method} ${path} is served`);
    }
  });

  test('the billing profile routes are documented with their operationIds', () => {
    for (const [method, path, operationId] of profileOperations) {
      assert.ok(app.app.server.hasRoute({ method: method as 'GET', url: path.replace(/\{(\w+)\}/g, ':$1') }), `${method} ${path} is served`);
      assert.equal(operation(method, path)?.operationId, operationId, `${method} ${path}`);
    }
  });

  test('every operation of the reference API that is served carries the reference operationId', () => {
    let checked = 0;
    for (const [method, path, operationId] of referenceOperations) {
      if (!app.app.server.hasRoute({ method: method as 'GET', url: path.replace(/\{(\w+)\}/g, ':$1') })) continue;
      assert.equal(operation(method, path)?.operationId, operationId, `${method} ${path}`);
      assert.deepEqual(operation(method, path).tags, ['Billing'], `${method} ${path} tags`);
      checked += 1;
    }
    assert.ok(checked >= 2);
  });

  test('billingInfo has the reference request and response schemas', () => {
    const put = operation('PUT', '/organization/{organizationId}/billingInfo');
    const request = put.requestBody.content['application/json'].schema;
    assert.deepEqual([...request.required].sort(), ['address', 'city', 'country_code', 'email', 'first_name', 'last_name', 'zip']);
    assert.deepEqual(Object.keys(request.properties).sort(), ['address', 'city', 'company', 'country_code', 'email', 'first_name', 'last_name', 'state', 'vat_number', 'zip']);
    assert.equal(request.additionalProperties, false);
    assert.equal(request.properties.email.format, 'email');
    const response = put.responses['200'].content['application/json'].schema;
    assert.deepEqual(Object.keys(response.properties).sort(), ['address', 'city', 'company', 'country_code', 'email', 'first_name', 'last_name', 'state', 'vat_number', 'zip']);
    assert.ok(response.required === undefined || response.required.length >= 0);
    const parameter = put.parameters.find((p: { name: string }) => p.name === 'organizationId');
    assert.equal(parameter.in, 'path');
    assert.equal(parameter.required, true);
    assert.equal(parameter.schema.format, 'uuid');
    for (const status of ['400', '401', '403', '404']) assert.ok(put.responses[status], `PUT documents ${status}`);
    const get = operation('GET', '/organization/{organizationId}/billingInfo');
    for (const status of ['200', '401', '403', '404']) assert.ok(get.responses[status], `GET documents ${status}`);
  });

  test('the documented limits of seeds 001 and 002 are in the schemas', () => {
    const orgPatch = operation('PATCH', '/api/v2/external/orgs/{slug}').requestBody.content['application/json'].schema;
    const maxLength = (schema: any): number | undefined => schema.maxLength ?? schema.anyOf?.find((s: any) => s.type === 'string')?.maxLength;
    assert.deepEqual(
      Object.fromEntries(Object.entries<any>(orgPatch.properties).map(([name, schema]) => [name, maxLength(schema)])),
      {
        billing_company_name: 255,
        billing_address_line1: 255,
        billing_address_line2: 255,
        billing_city: 128,
        billing_state: 128,
        billing_postal_code: 32,
        billing_country: 2,
        billing_tax_id: 64,
        billing_tax_id_type: 32,
        name: 100,
        slug: 64,
        billing_email: 254,
      },
    );
    const details = operation('PATCH', '/api/v1/organization/billing').requestBody.content['application/json'].schema;
    assert.equal(maxLength(details.properties.billingCity), 100);
    assert.equal(maxLength(details.properties.billingPostalCode), 20);
    assert.equal(maxLength(details.properties.vatNumber), 50);
    const address = operation('POST', '/organizations/{id}/billing-addresses').requestBody.content['application/json'].schema;
    assert.deepEqual([...address.required].sort(), ['address_line_1', 'city', 'company', 'country', 'name', 'postal_code', 'state']);
  });
});

describe('/docs', () => {
  test('answers readable HTML without credentials', async () => {
    const result = await http(app, 'GET', '/docs');
    assert.equal(result.status, 200, result.text.slice(0, 200));
    assert.match(result.headers.get('content-type') ?? '', /text\/html/);
    assert.match(result.text, /<html/i);
  });

  test('answers HTML to an authenticated caller', async () => {
    const result = await http(app, 'GET', '/docs', { headers: app.admin });
    assert.equal(result.status, 200, result.text.slice(0, 200));
    assert.match(result.headers.get('content-type') ?? '', /text\/html/);
    assert.match(result.text, /<html/i);
  });
});

describe('health', () => {
  test('/healthz and /readyz answer without credentials; readiness checks the database', async () => {
    const health = await http(app, 'GET', '/healthz');
    assert.equal(health.status, 200);
    assert.equal(health.body.status, 'ok');
    const ready = await http(app, 'GET', '/readyz');
    assert.equal(ready.status, 200);
    assert.equal(ready.body.status, 'ready');
  });
});
