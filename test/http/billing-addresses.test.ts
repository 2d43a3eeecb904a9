/** Seed 003: billing addresses of an organization, in that API's envelope; exactly one default, kept by the database. */
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

const collection = (organizationId: string) => `/organizations/${organizationId}/billing-addresses`;
const item = (organizationId: string, addressId: string) => `${collection(organizationId)}/${addressId}`;

const documentedAddress = {
  name: 'New Office Location',
  company: 'Acme Corporation',
  address_line_1: '789 New Street',
  address_line_2: 'Floor 3',
  city: 'Los Angeles',
  state: 'CA',
  postal_code: '90210',
  country: 'US',
};

async function add(org: OrganizationFixture, body: Record<string, unknown>, headers: Record<string, string> = org.owner) {
  return http(app, 'POST', collection(org.id), { headers, body });
}

async function list(org: OrganizationFixture): Promise<Array<Record<string, any>>> {
  const result = await http(app, 'GET', collection(org.id), { headers: org.owner });
  assert.equal(result.status, 200, result.text);
  return result.body.data.billing_addresses;
}

async function defaultIds(org: OrganizationFixture): Promise<string[]> {
  return (await list(org)).filter((address) => address.is_default).map((address) => address.id);
}

/** The error envelope of this API, and the parameters it names. */
function paramNames(result: { body: any; text: string }): string[] {
  assert.equal(result.body.data, null, result.text);
  assert.equal(typeof result.body.status, 'number');
  assert.ok(Array.isArray(result.body.errors) && result.body.errors.length > 0, result.text);
  for (const error of result.body.errors) {
    assert.equal(typeof error.code, 'string');
    assert.equal(typeof error.message, 'string');
    assert.equal(typeof error.long_message, 'string');
    assert.equal(typeof error.meta, 'object');
  }
  return [...new Set<string>(result.body.errors.map((error: { meta: { param_name?: string } }) => error.meta.param_name))].sort();
}

/** Runs requests that must fail and checks that neither the addresses nor the audit trail moved. */
async function expectNothingWritten(org: OrganizationFixture, attempt: () => Promise<void>): Promise<void> {
  const before = await list(org);
  const eventsBefore = (await auditEvents(app, org.id)).length;
  await attempt();
  assert.deepEqual(await list(org), before);
  assert.equal((await auditEvents(app, org.id)).length, eventsBefore);
}

describe('add', () => {
  test('POST answers 201 with the documented envelope', async () => {
    const org = await createOrganization(app);
    const result = await add(org, { ...documentedAddress, is_default: false });
    assert.equal(result.status, 201, result.text);
    assert.equal(result.body.status, 201);
    assert.equal(result.body.message, '');
    assert.deepEqual(result.body.errors, []);
    const address = result.body.data.billing_address;
    assert.match(address.id, /^billing_[A-Za-z0-9_-]+$/);
    assert.deepEqual({ ...address, id: undefined, created_at: undefined, updated_at: undefined, is_default: undefined }, {
      ...documentedAddress,
      id: undefined,
      created_at: undefined,
      updated_at: undefined,
      is_default: undefined,
    });
    assert.ok(!Number.isNaN(Date.parse(address.created_at)));
    assert.ok(!Number.isNaN(Date.parse(address.updated_at)));
    const session = result.body.session;
    assert.deepEqual(session.signin_attempts, []);
    assert.deepEqual(session.signup_attempts, []);
    assert.equal(session.signins.length, 1);
    assert.equal(session.signins[0].user_id, `owner-${org.id}`);
    assert.deepEqual(session.active_signin, session.signins[0]);
    const [event] = await auditEvents(app, org.id);
    assert.equal(event.type, 'BILLING_ADDRESS_CREATE');
    assert.equal(event.surface, 'billing-addresses');
  });

  test('address_line_2 is optional', async () => {
    const org = await createOrganization(app);
    const { address_line_2: _omitted, ...withoutLine2 } = documentedAddress;
    const result = await add(org, withoutLine2);
    assert.equal(result.status, 201, result.text);
    assert.equal(result.body.data.billing_address.address_line_2, null);
  });

  test('missing required fields are each named in errors[].meta.param_name', async () => {
    const org = await createOrganization(app);
    await expectNothingWritten(org, async () => {
      const result = await add(org, {});
      assert.ok(result.status >= 400 && result.status < 500);
      assert.equal(result.body.status, result.status);
      assert.deepEqual(paramNames(result), ['address_line_1', 'city', 'company', 'country', 'name', 'postal_code', 'state']);
      assert.ok(result.body.errors.every((error: { code: string }) => error.code === 'form_param_missing'));
      for (const field of ['name', 'company', 'city']) {
        const body: Record<string, unknown> = { ...documentedAddress };
        delete body[field];
        assert.deepEqual(paramNames(await add(org, body)), [field]);
      }
    });
  });

  test('bad values are named: unknown country, over-long strings, wrong types, unknown fields', async () => {
    const org = await createOrganization(app);
    await expectNothingWritten(org, async () => {
      const country = await add(org, { ...documentedAddress, country: 'ZZ' });
      assert.ok(country.status >= 400 && country.status < 500);
      assert.deepEqual(paramNames(country), ['country']);
      assert.deepEqual(paramNames(await add(org, { ...documentedAddress, country: 'USA' })), ['country']);
      assert.deepEqual(paramNames(await add(org, { ...documentedAddress, city: 'c'.repeat(129) })), ['city']);
      assert.deepEqual(paramNames(await add(org, { ...documentedAddress, postal_code: 'p'.repeat(33) })), ['postal_code']);
      assert.deepEqual(paramNames(await add(org, { ...documentedAddress, is_default: 'yes' })), ['is_default']);
      assert.deepEqual(paramNames(await add(org, { ...documentedAddress, phone: '555' })), ['phone']);
      const malformed = await add(org, '{"name":' as unknown as Record<string, unknown>);
      assert.equal(malformed.status, 400);
      assert.equal(malformed.body.data, null);
    });
  });

  test('a body over 64 KiB gets 413 in the envelope', async () => {
    const org = await createOrganization(app);
    await expectNothingWritten(org, async () => {
      const result = await add(org, { ...documentedAddress, company: 'x'.repeat(70_000) });
      assert.equal(result.status, 413);
      assert.equal(result.body.status, 413);
      assert.equal(result.body.data, null);
    });
  });
});

describe('exactly one default', () => {
  test('the first address becomes the default even when is_default is false', async () => {
    const org = await createOrganization(app);
    const first = await add(org, { ...documentedAddress, is_default: false });
    assert.equal(first.body.data.billing_address.is_default, true);
    assert.deepEqual(await defaultIds(org), [first.body.data.billing_address.id]);
  });

  test('a new address with is_default: true moves the default; without it, it does not', async () => {
    const org = await createOrganization(app);
    const first = (await add(org, { ...documentedAddress, name: 'First' })).body.data.billing_address;
    assert.deepEqual(await defaultIds(org), [first.id]);
    const second = (await add(org, { ...documentedAddress, name: 'Second', is_default: true })).body.data.billing_address;
    assert.equal(second.is_default, true);
    assert.deepEqual(await defaultIds(org), [second.id]);
    const third = (await add(org, { ...documentedAddress, name: 'Third' })).body.data.billing_address;
    assert.equal(third.is_default, false);
    assert.deepEqual(await defaultIds(org), [second.id]);
    const fourth = (await add(org, { ...documentedAddress, name: 'Fourth', is_default: false })).body.data.billing_address;
    assert.equal(fourth.is_default, false);
    assert.deepEqual(await defaultIds(org), [second.id]);
    assert.equal((await list(org)).length, 4);
  });

  test('PATCH updates only the fields sent, and is_default: true moves the default', async () => {
    const org = await createOrganization(app);
    const first = (await add(org, documentedAddress)).body.data.billing_address;
    const second = (await add(org, { ...documentedAddress, name: 'Warehouse' })).body.data.billing_address;
    const patched = await http(app, 'PATCH', item(org.id, second.id), { headers: org.owner, body: { city: 'San Diego', address_line_2: null } });
    assert.equal(patched.status, 200, patched.text);
    assert.equal(patched.body.status, 200);
    assert.deepEqual(patched.body.errors, []);
    const address = patched.body.data.billing_address;
    assert.equal(address.city, 'San Diego');
    assert.equal(address.address_line_2, null);
    assert.equal(address.name, 'Warehouse');
    assert.equal(address.is_default, false);
    const [event] = await auditEvents(app, org.id);
    assert.equal(event.type, 'BILLING_ADDRESS_UPDATE');
    assert.deepEqual(event.changes.city, { old: 'Los Angeles', new: 'San Diego' });

    const moved = await http(app, 'PATCH', item(org.id, second.id), { headers: org.owner, body: { is_default: true } });
    assert.equal(moved.status, 200);
    assert.equal(moved.body.data.billing_address.is_default, true);
    assert.deepEqual(await defaultIds(org), [second.id]);
    assert.equal((await list(org)).find((a) => a.id === first.id)?.is_default, false);
  });

  test('the default cannot be unset directly', async () => {
    const org = await createOrganization(app);
    const first = (await add(org, documentedAddress)).body.data.billing_address;
    await expectNothingWritten(org, async () => {
      const result = await http(app, 'PATCH', item(org.id, first.id), { headers: org.owner, body: { is_default: false } });
      assert.equal(result.status, 409);
      assert.equal(result.body.status, 409);
      assert.deepEqual(paramNames(result), ['is_default']);
    });
    assert.deepEqual(await defaultIds(org), [first.id]);
  });

  test('PATCH with bad values is refused and names them', async () => {
    const org = await createOrganization(app);
    const first = (await add(org, documentedAddress)).body.data.billing_address;
    await expectNothingWritten(org, async () => {
      const country = await http(app, 'PATCH', item(org.id, first.id), { headers: org.owner, body: { country: 'ZZ' } });
      assert.ok(country.status >= 400 && country.status < 500);
      assert.deepEqual(paramNames(country), ['country']);
      const empty = await http(app, 'PATCH', item(org.id, first.id), { headers: org.owner, body: { city: '' } });
      assert.deepEqual(paramNames(empty), ['city']);
    });
  });

  test('deleting the default promotes another; deleting another leaves the default', async () => {
    const org = await createOrganization(app);
    const first = (await add(org, { ...documentedAddress, name: 'First' })).body.data.billing_address;
    const second = (await add(org, { ...documentedAddress, name: 'Second' })).body.data.billing_address;
    const third = (await add(org, { ...documentedAddress, name: 'Third' })).body.data.billing_address;

    const deleted = await http(app, 'DELETE', item(org.id, first.id), { headers: org.owner });
    assert.equal(deleted.status, 200, deleted.text);
    assert.equal(deleted.body.data.id, first.id);
    assert.equal(deleted.body.data.deleted, true);
    const promoted = deleted.body.data.promoted_default_id;
    assert.ok(promoted === second.id || promoted === third.id);
    assert.deepEqual(await defaultIds(org), [promoted]);
    const [event] = await auditEvents(app, org.id);
    assert.equal(event.type, 'BILLING_ADDRESS_DELETE');

    const other = promoted === second.id ? third : second;
    const notDefault = await http(app, 'DELETE', item(org.id, other.id), { headers: org.owner });
    assert.equal(notDefault.body.data.promoted_default_id, null);
    assert.deepEqual(await defaultIds(org), [promoted]);

    const last = await http(app, 'DELETE', item(org.id, promoted), { headers: org.owner });
    assert.equal(last.status, 200);
    assert.deepEqual(await list(org), []);
    assert.equal((await http(app, 'DELETE', item(org.id, promoted), { headers: org.owner })).status, 404);
  });
});

describe('ETag and If-Match', () => {
  test('the list carries the ETag every surface shares; a stale If-Match gets 412 and writes nothing', async () => {
    const org = await createOrganization(app);
    const first = (await add(org, documentedAddress)).body.data.billing_address;
    const listed = await http(app, 'GET', collection(org.id), { headers: org.owner });
    const etag = listed.headers.get('etag');
    assert.match(etag ?? '', /^"\d+"$/);
    const info = await http(app, 'GET', `/organization/${org.id}/billingInfo`, { headers: org.owner });
    assert.equal(info.headers.get('etag'), etag);

    const current = await http(app, 'PATCH', item(org.id, first.id), { headers: { ...org.owner, 'if-match': etag! }, body: { city: 'Pasadena' } });
    assert.equal(current.status, 200, current.text);
    await expectNothingWritten(org, async () => {
      const stale = { ...org.owner, 'if-match': etag! };
      for (const result of [
        await http(app, 'PATCH', item(org.id, first.id), { headers: stale, body: { city: 'Burbank' } }),
        await http(app, 'POST', collection(org.id), { headers: stale, body: documentedAddress }),
        await http(app, 'DELETE', item(org.id, first.id), { headers: stale }),
      ]) {
        assert.equal(result.status, 412, result.text);
        assert.equal(result.body.status, 412);
        assert.equal(result.body.data, null);
      }
    });
    assert.notEqual((await http(app, 'GET', collection(org.id), { headers: org.owner })).headers.get('etag'), etag);
  });

  test('the operator listing an unknown organization gets 404, not an empty list', async () => {
    const result = await http(app, 'GET', collection(randomUUID()), { headers: app.admin });
    assert.equal(result.status, 404);
  });
});

describe('the database keeps exactly one default', () => {
  test('a raw insert of a second default is a unique violation', async () => {
    const org = await createOrganization(app);
    await add(org, documentedAddress);
    await assert.rejects(
      app.database.query(
        `INSERT INTO billing_addresses (id, organization_id, name, is_default, created_at, updated_at)
         VALUES ($1, $2, 'Sneaky', true, now(), now())`,
        [`billing_raw_${randomUUID()}`, org.id],
      ),
      (error: { code?: string }) => error.code === '23505',
    );
    assert.equal((await defaultIds(org)).length, 1);
  });

  test('a transaction that leaves addresses without a default is refused at commit', async () => {
    const org = await createOrganization(app);
    const first = (await add(org, documentedAddress)).body.data.billing_address;
    await add(org, { ...documentedAddress, name: 'Second' });
    await assert.rejects(
      app.database.transaction(async (tx) => {
        await tx.query('UPDATE billing_addresses SET is_default = false WHERE organization_id = $1', [org.id]);
      }),
      (error: { code?: string }) => error.code === '23514',
    );
    await assert.rejects(
      app.database.transaction(async (tx) => {
        await tx.query('DELETE FROM billing_addresses WHERE organization_id = $1 AND is_default', [org.id]);
      }),
      (error: { code?: string }) => error.code === '23514',
    );
    assert.deepEqual(await defaultIds(org), [first.id]);
    // Inside the transaction the default may move freely, as long as one is left at commit.
    await app.database.transaction(async (tx) => {
      await tx.query('UPDATE billing_addresses SET is_default = false WHERE organization_id = $1', [org.id]);
      await tx.query('UPDATE billing_addresses SET is_default = true WHERE organization_id = $1 AND id = $2', [org.id, first.id]);
    });
    assert.deepEqual(await defaultIds(org), [first.id]);
  });
});

describe('who may use it', () => {
  test('the __session cookie authenticates like a bearer JWT', async () => {
    const org = await createOrganization(app);
    const jwt = await mintJwt(`billing-${org.id}`, { org_id: org.id, sid: 'sess_123' });
    const headers = { cookie: `__session=${jwt}` };
    const added = await add(org, documentedAddress, headers);
    assert.equal(added.status, 201, added.text);
    assert.equal(added.body.session.active_signin.id, 'sess_123');
    assert.equal(added.body.session.active_signin.user_id, `billing-${org.id}`);
    const listed = await http(app, 'GET', collection(org.id), { headers });
    assert.equal(listed.status, 200);
    assert.equal(listed.body.data.billing_addresses.length, 1);
    const bad = await http(app, 'GET', collection(org.id), { headers: { cookie: '__session=not-a-jwt' } });
    assert.equal(bad.status, 401);
    assert.equal(bad.body.data, null);
  });

  test("another organization's address id answers 404, like an unknown one", async () => {
    const org = await createOrganization(app);
    const other = await createOrganization(app);
    const foreign = (await add(other, documentedAddress)).body.data.billing_address;
    await expectNothingWritten(other, async () => {
      const patched = await http(app, 'PATCH', item(org.id, foreign.id), { headers: org.owner, body: { city: 'Hijacked' } });
      assert.equal(patched.status, 404);
      const deleted = await http(app, 'DELETE', item(org.id, foreign.id), { headers: org.owner });
      assert.equal(deleted.status, 404);
      const unknown = await http(app, 'DELETE', item(org.id, 'billing_unknown'), { headers: org.owner });
      assert.equal(unknown.status, 404);
      assert.deepEqual(deleted.body.errors, unknown.body.errors);
      // And the other organization's own paths are closed to a non-member.
      assert.equal((await http(app, 'GET', collection(other.id), { headers: org.owner })).status, 404);
      assert.equal((await add(other, documentedAddress, org.owner)).status, 404);
    });
  });

  test('a plain member gets 403, a billing manager may write, no credentials 401', async () => {
    const org = await createOrganization(app);
    await expectNothingWritten(org, async () => {
      assert.equal((await add(org, documentedAddress, org.member)).status, 403);
      assert.equal((await http(app, 'GET', collection(org.id), { headers: org.member })).status, 403);
      const anonymous = await http(app, 'GET', collection(org.id));
      assert.equal(anonymous.status, 401);
      assert.equal(anonymous.body.session.active_signin, null);
    });
    assert.equal((await add(org, documentedAddress, org.billing)).status, 201);
  });

  test('a non-uuid organization id names the id parameter', async () => {
    const org = await createOrganization(app);
    const result = await http(app, 'GET', collection('not-a-uuid'), { headers: org.owner });
    assert.equal(result.status, 400);
    assert.deepEqual(paramNames(result), ['id']);
  });
});
