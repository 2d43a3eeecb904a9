/** Seed 000/004: GET and PUT /organization/{organizationId}/billingInfo, on a real server and database. */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { auditEvents, createOrganization, http, mintJwt, startTestApp, type OrganizationFixture, type TestApp } from '../support/test-app.js';

let app: TestApp;
before(async () => {
  app = await startTestApp();
});
after(async () => {
  await app.close();
});

const fullBody = {
  first_name: 'Forrest',
  last_name: 'Gump',
  email: 'forrest@gump.com',
  address: '21 Jenny Street\nApartment 4',
  city: 'Greenbow',
  zip: '36744',
  state: 'Alabama',
  country_code: 'US',
  company: 'Bubba Gump Shrimp Co.',
  vat_number: 'US123456789',
};
const requiredOnly = {
  first_name: 'Jenny',
  last_name: 'Curran',
  email: 'jenny@example.org',
  address: '1 Main Street',
  city: 'Greenbow',
  zip: '36744',
  country_code: 'DE',
};
const emptyInfo = {
  first_name: null,
  last_name: null,
  email: null,
  address: null,
  city: null,
  zip: null,
  state: null,
  country_code: null,
  company: null,
  vat_number: null,
};

const path = (organizationId: string) => `/organization/${organizationId}/billingInfo`;

async function read(org: OrganizationFixture) {
  const result = await http(app, 'GET', path(org.id), { headers: org.owner });
  assert.equal(result.status, 200);
  return result.body;
}

/** Runs a request that must fail and checks that neither the billing info nor the audit trail moved. */
async function expectNothingWritten(org: OrganizationFixture, attempt: () => Promise<void>): Promise<void> {
  const before = await read(org);
  const eventsBefore = (await auditEvents(app, org.id)).length;
  await attempt();
  assert.deepEqual(await read(org), before);
  assert.equal((await auditEvents(app, org.id)).length, eventsBefore);
}

async function createApiToken(organizationId: string, role: string): Promise<{ id: string; token: string }> {
  const created = await http(app, 'POST', `/admin/organizations/${organizationId}/api-tokens`, {
    headers: app.admin,
    body: { name: `${role} token`, role },
  });
  assert.equal(created.status, 201, created.text);
  return created.body;
}

describe('success', () => {
  test('a new organization has empty billing info and an ETag', async () => {
    const org = await createOrganization(app);
    const result = await http(app, 'GET', path(org.id), { headers: org.owner });
    assert.equal(result.status, 200);
    assert.deepEqual(result.body, emptyInfo);
    assert.match(result.headers.get('etag') ?? '', /^"\d+"$/);
  });

  test('every field round-trips through PUT and GET', async () => {
    const org = await createOrganization(app);
    const put = await http(app, 'PUT', path(org.id), { headers: org.owner, body: fullBody });
    assert.equal(put.status, 200, put.text);
    assert.deepEqual(put.body, fullBody);
    const get = await http(app, 'GET', path(org.id), { headers: org.owner });
    assert.deepEqual(get.body, fullBody);
    assert.equal(get.headers.get('etag'), put.headers.get('etag'));
  });

  test('a PUT without the optional fields clears them', async () => {
    const org = await createOrganization(app);
    assert.equal((await http(app, 'PUT', path(org.id), { headers: org.owner, body: fullBody })).status, 200);
    const put = await http(app, 'PUT', path(org.id), { headers: org.owner, body: requiredOnly });
    assert.equal(put.status, 200, put.text);
    const expected = { ...emptyInfo, ...requiredOnly };
    assert.deepEqual(put.body, expected);
    assert.deepEqual(await read(org), expected);
  });

  test('optional fields sent as null are cleared too', async () => {
    const org = await createOrganization(app);
    assert.equal((await http(app, 'PUT', path(org.id), { headers: org.owner, body: fullBody })).status, 200);
    const put = await http(app, 'PUT', path(org.id), {
      headers: org.owner,
      body: { ...requiredOnly, state: null, company: null, vat_number: null },
    });
    assert.equal(put.status, 200, put.text);
    assert.equal(put.body.state, null);
    assert.equal(put.body.company, null);
    assert.equal(put.body.vat_number, null);
  });

  test('the PUT writes one BILLING_DETAILS_UPDATE audit event with the fields that changed', async () => {
    const org = await createOrganization(app);
    const put = await http(app, 'PUT', path(org.id), { headers: { ...org.owner, 'x-request-id': 'billing-info-put-1' }, body: fullBody });
    assert.equal(put.status, 200);
    const [event] = await auditEvents(app, org.id);
    assert.equal(event.type, 'BILLING_DETAILS_UPDATE');
    assert.equal(event.surface, 'organization-billing');
    assert.equal(event.actor_type, 'user');
    assert.equal(event.actor_id, `owner-${org.id}`);
    assert.equal(event.request_id, 'billing-info-put-1');
    assert.deepEqual(event.changes.email, { old: null, new: 'forrest@gump.com' });
    assert.deepEqual(event.changes.addressLine2, { old: null, new: 'Apartment 4' });
  });

  test('the same PUT twice changes nothing the second time: same ETag, no new audit event', async () => {
    const org = await createOrganization(app);
    const first = await http(app, 'PUT', path(org.id), { headers: org.owner, body: fullBody });
    const events = (await auditEvents(app, org.id)).length;
    const second = await http(app, 'PUT', path(org.id), { headers: org.owner, body: fullBody });
    assert.equal(second.status, 200);
    assert.equal(second.headers.get('etag'), first.headers.get('etag'));
    assert.equal((await auditEvents(app, org.id)).length, events);
  });

  test('strings are trimmed and a lower-case country code is normalised', async () => {
    const org = await createOrganization(app);
    const put = await http(app, 'PUT', path(org.id), { headers: org.owner, body: { ...requiredOnly, city: '  Berlin ', country_code: 'de' } });
    assert.equal(put.status, 200, put.text);
    assert.equal(put.body.city, 'Berlin');
    assert.equal(put.body.country_code, 'DE');
  });
});

describe('ETag and If-Match', () => {
  test('the ETag changes with each write; a current If-Match succeeds', async () => {
    const org = await createOrganization(app);
    const get = await http(app, 'GET', path(org.id), { headers: org.owner });
    const etag = get.headers.get('etag')!;
    const put = await http(app, 'PUT', path(org.id), { headers: { ...org.owner, 'if-match': etag }, body: fullBody });
    assert.equal(put.status, 200, put.text);
    assert.notEqual(put.headers.get('etag'), etag);
    const weak = await http(app, 'PUT', path(org.id), {
      headers: { ...org.owner, 'if-match': `W/${put.headers.get('etag')}` },
      body: { ...fullBody, city: 'Savannah' },
    });
    assert.equal(weak.status, 200, weak.text);
  });

  test('a stale If-Match gets 412 and changes nothing', async () => {
    const org = await createOrganization(app);
    const stale = (await http(app, 'GET', path(org.id), { headers: org.owner })).headers.get('etag')!;
    assert.equal((await http(app, 'PUT', path(org.id), { headers: org.owner, body: fullBody })).status, 200);
    await expectNothingWritten(org, async () => {
      const put = await http(app, 'PUT', path(org.id), { headers: { ...org.owner, 'if-match': stale }, body: requiredOnly });
      assert.equal(put.status, 412);
      assert.equal(put.body.error, 'precondition_failed');
    });
  });

  test('a garbled If-Match never matches', async () => {
    const org = await createOrganization(app);
    await expectNothingWritten(org, async () => {
      const put = await http(app, 'PUT', path(org.id), { headers: { ...org.owner, 'if-match': 'not-an-etag' }, body: fullBody });
      assert.equal(put.status, 412);
    });
  });

  test('If-Match: * is no precondition', async () => {
    const org = await createOrganization(app);
    const put = await http(app, 'PUT', path(org.id), { headers: { ...org.owner, 'if-match': '*' }, body: fullBody });
    assert.equal(put.status, 200);
  });
});

describe('bad input answers 400 naming each field, and writes nothing', () => {
  const fieldsOf = (body: { fields?: Array<{ field: string }> }) => (body.fields ?? []).map((f) => f.field).sort();

  test('every required field missing is named', async () => {
    const org = await createOrganization(app);
    await expectNothingWritten(org, async () => {
      const put = await http(app, 'PUT', path(org.id), { headers: org.owner, body: {} });
      assert.equal(put.status, 400);
      assert.equal(put.body.status, 400);
      assert.equal(put.body.error, 'validation_error');
      assert.deepEqual(fieldsOf(put.body), ['address', 'city', 'country_code', 'email', 'first_name', 'last_name', 'zip']);
    });
  });

  test('each required field missing alone is named alone', async () => {
    const org = await createOrganization(app);
    for (const field of Object.keys(requiredOnly)) {
      const body: Record<string, unknown> = { ...requiredOnly };
      delete body[field];
      const put = await http(app, 'PUT', path(org.id), { headers: org.owner, body });
      assert.equal(put.status, 400, field);
      assert.deepEqual(fieldsOf(put.body), [field]);
    }
    assert.deepEqual(await read(org), emptyInfo);
  });

  test('wrong types are named', async () => {
    const org = await createOrganization(app);
    await expectNothingWritten(org, async () => {
      const put = await http(app, 'PUT', path(org.id), {
        headers: org.owner,
        body: { ...requiredOnly, first_name: 42, zip: 36744, company: ['x'], state: true },
      });
      assert.equal(put.status, 400);
      assert.deepEqual(fieldsOf(put.body), ['company', 'first_name', 'state', 'zip']);
    });
  });

  test('an unknown field is named', async () => {
    const org = await createOrganization(app);
    await expectNothingWritten(org, async () => {
      const put = await http(app, 'PUT', path(org.id), { headers: org.owner, body: { ...requiredOnly, phone: '555' } });
      assert.equal(put.status, 400);
      assert.deepEqual(fieldsOf(put.body), ['phone']);
    });
  });

  test('an invalid e-mail is named', async () => {
    const org = await createOrganization(app);
    for (const email of ['not-an-email', 'a@b', 'two@@example.com', 'spaces in@example.com']) {
      await expectNothingWritten(org, async () => {
        const put = await http(app, 'PUT', path(org.id), { headers: org.owner, body: { ...requiredOnly, email } });
        assert.equal(put.status, 400, email);
        assert.deepEqual(fieldsOf(put.body), ['email'], email);
      });
    }
  });

  test('an unknown country code (ZZ) is refused with country_code named', async () => {
    const org = await createOrganization(app);
    for (const country_code of ['ZZ', 'XX', '12', 'U']) {
      await expectNothingWritten(org, async () => {
        const put = await http(app, 'PUT', path(org.id), { headers: org.owner, body: { ...requiredOnly, country_code } });
        assert.equal(put.status, 400, country_code);
        assert.deepEqual(fieldsOf(put.body), ['country_code'], country_code);
      });
    }
  });

  test('strings over their limit are named; at the limit they are accepted', async () => {
    const org = await createOrganization(app);
    const limits: Record<string, number> = { first_name: 255, last_name: 255, city: 128, zip: 32, state: 128, company: 255, vat_number: 64 };
    for (const [field, limit] of Object.entries(limits)) {
      await expectNothingWritten(org, async () => {
        const put = await http(app, 'PUT', path(org.id), { headers: org.owner, body: { ...requiredOnly, [field]: 'x'.repeat(limit + 1) } });
        assert.equal(put.status, 400, field);
        assert.deepEqual(fieldsOf(put.body), [field]);
      });
      const ok = await http(app, 'PUT', path(org.id), { headers: org.owner, body: { ...requiredOnly, [field]: 'x'.repeat(limit) } });
      assert.equal(ok.status, 200, `${field} at its limit: ${ok.text}`);
    }
  });

  test('an address line over 255 characters is refused with address named', async () => {
    const org = await createOrganization(app);
    await expectNothingWritten(org, async () => {
      const put = await http(app, 'PUT', path(org.id), { headers: org.owner, body: { ...requiredOnly, address: `${'x'.repeat(256)}\nline 2` } });
      assert.equal(put.status, 400);
      assert.deepEqual(fieldsOf(put.body), ['address']);
    });
  });

  test('malformed JSON gets 400 malformed_json', async () => {
    const org = await createOrganization(app);
    await expectNothingWritten(org, async () => {
      const put = await http(app, 'PUT', path(org.id), { headers: org.owner, body: '{"first_name": "Forrest",' });
      assert.equal(put.status, 400);
      assert.equal(put.body.error, 'malformed_json');
    });
  });

  test('a body over 64 KiB gets 413', async () => {
    const org = await createOrganization(app);
    await expectNothingWritten(org, async () => {
      const put = await http(app, 'PUT', path(org.id), { headers: org.owner, body: { ...requiredOnly, company: 'x'.repeat(65 * 1024) } });
      assert.equal(put.status, 413);
      assert.equal(put.body.status, 413);
      assert.equal(put.body.error, 'payload_too_large');
    });
  });

  test('a body that is not JSON gets 415', async () => {
    const org = await createOrganization(app);
    await expectNothingWritten(org, async () => {
      const put = await http(app, 'PUT', path(org.id), { headers: { ...org.owner, 'content-type': 'text/plain' }, body: 'first_name=Forrest' });
      assert.equal(put.status, 415);
      assert.equal(put.body.error, 'unsupported_media_type');
    });
  });

  test('a non-uuid organization id gets 400 naming organizationId', async () => {
    const org = await createOrganization(app);
    const get = await http(app, 'GET', path('not-a-uuid'), { headers: org.owner });
    assert.equal(get.status, 400);
    assert.deepEqual(fieldsOf(get.body), ['organizationId']);
    const put = await http(app, 'PUT', path('not-a-uuid'), { headers: org.owner, body: fullBody });
    assert.equal(put.status, 400);
  });
});

describe('who may read and write', () => {
  test('an unknown organization and another organization both answer the same 404', async () => {
    const org = await createOrganization(app);
    const other = await createOrganization(app);
    const unknown = await http(app, 'GET', path(randomUUID()), { headers: org.owner });
    const foreign = await http(app, 'GET', path(other.id), { headers: org.owner });
    assert.equal(unknown.status, 404);
    assert.equal(foreign.status, 404);
    assert.deepEqual(foreign.body, unknown.body);
    assert.deepEqual(Object.keys(unknown.body).sort(), ['error', 'message', 'status']);
    await expectNothingWritten(other, async () => {
      const put = await http(app, 'PUT', path(other.id), { headers: org.owner, body: fullBody });
      assert.equal(put.status, 404);
      assert.deepEqual(put.body, unknown.body);
    });
    const putUnknown = await http(app, 'PUT', path(randomUUID()), { headers: org.owner, body: fullBody });
    assert.deepEqual(putUnknown.body, unknown.body);
  });

  test('a user with no membership anywhere gets the same 404', async () => {
    const org = await createOrganization(app);
    const stranger = { authorization: `Bearer ${await mintJwt(`stranger-${randomUUID()}`)}` };
    const result = await http(app, 'GET', path(org.id), { headers: stranger });
    assert.equal(result.status, 404);
    assert.equal(result.body.error, 'not_found');
  });

  test('a plain member gets 403 on read and write', async () => {
    const org = await createOrganization(app);
    assert.equal((await http(app, 'GET', path(org.id), { headers: org.member })).status, 403);
    await expectNothingWritten(org, async () => {
      const put = await http(app, 'PUT', path(org.id), { headers: org.member, body: fullBody });
      assert.equal(put.status, 403);
      assert.equal(put.body.error, 'forbidden');
    });
  });

  test('owner, admin and billing manager may read and write', async () => {
    const org = await createOrganization(app);
    for (const role of ['owner', 'admin', 'billing'] as const) {
      const put = await http(app, 'PUT', path(org.id), { headers: org[role], body: { ...fullBody, city: `City of ${role}` } });
      assert.equal(put.status, 200, role);
      const get = await http(app, 'GET', path(org.id), { headers: org[role] });
      assert.equal(get.status, 200, role);
      assert.equal(get.body.city, `City of ${role}`);
    }
  });

  test('no credentials get 401', async () => {
    const org = await createOrganization(app);
    const result = await http(app, 'GET', path(org.id));
    assert.equal(result.status, 401);
    assert.equal(result.body.error, 'unauthorized');
  });

  test('an organization API token works for its organization and gets 404 for another', async () => {
    const org = await createOrganization(app);
    const other = await createOrganization(app);
    const { token } = await createApiToken(org.id, 'billing');
    const headers = { authorization: `Token ${token}` };
    const put = await http(app, 'PUT', path(org.id), { headers, body: fullBody });
    assert.equal(put.status, 200, put.text);
    assert.deepEqual((await http(app, 'GET', path(org.id), { headers })).body, fullBody);
    const [event] = await auditEvents(app, org.id);
    assert.equal(event.actor_type, 'token');
    await expectNothingWritten(other, async () => {
      assert.equal((await http(app, 'GET', path(other.id), { headers })).status, 404);
      assert.equal((await http(app, 'PUT', path(other.id), { headers, body: fullBody })).status, 404);
    });
  });

  test('a member-role API token gets 403', async () => {
    const org = await createOrganization(app);
    const { token } = await createApiToken(org.id, 'member');
    assert.equal((await http(app, 'GET', path(org.id), { headers: { authorization: `Token ${token}` } })).status, 403);
  });

  test('a revoked API token gets 401, and an unknown one too', async () => {
    const org = await createOrganization(app);
    const { id, token } = await createApiToken(org.id, 'admin');
    const headers = { authorization: `Token ${token}` };
    assert.equal((await http(app, 'GET', path(org.id), { headers })).status, 200);
    const revoked = await http(app, 'DELETE', `/admin/organizations/${org.id}/api-tokens/${id}`, { headers: app.admin });
    assert.equal(revoked.status, 204);
    await expectNothingWritten(org, async () => {
      const get = await http(app, 'GET', path(org.id), { headers });
      assert.equal(get.status, 401);
      assert.equal(get.body.error, 'invalid_token'); // issue 10: a 401 says why
      assert.equal((await http(app, 'PUT', path(org.id), { headers, body: fullBody })).status, 401);
    });
    assert.equal((await http(app, 'GET', path(org.id), { headers: { authorization: 'Token bursar_made_up' } })).status, 401);
  });
});
