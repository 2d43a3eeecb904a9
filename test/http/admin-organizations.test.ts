/** Operator API: organizations, memberships, API tokens and the audit trail. */
import assert from 'node:assert/strict';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { auditEvents, createOrganization, http, mintJwt, startTestApp, type TestApp } from '../support/test-app.js';

let app: TestApp;
before(async () => {
  app = await startTestApp();
});
after(async () => {
  await app.close();
});

const unique = () => randomBytes(4).toString('hex');

async function create(body: unknown) {
  return http(app, 'POST', '/admin/organizations', { headers: app.admin, body });
}

function fieldsOf(body: { fields?: Array<{ field: string }> }): string[] {
  return [...new Set((body.fields ?? []).map((f) => f.field))].sort();
}

describe('create an organization', () => {
  test('answers 201 with id, derived slug, name, plan and created_at from the business clock', async () => {
    const at = new Date('2031-03-04T05:06:07.000Z');
    app.clock.set(at);
    try {
      const name = `Acme Corp. ${unique()}`;
      const result = await create({ name: `  ${name}  ` });
      assert.equal(result.status, 201, result.text);
      assert.match(result.body.id, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      assert.equal(result.body.name, name);
      assert.equal(result.body.slug, name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/-$/, ''));
      assert.equal(typeof result.body.plan, 'string');
      assert.ok(Math.abs(Date.parse(result.body.created_at) - at.getTime()) < 5_000, result.body.created_at);
      const [event] = await auditEvents(app, result.body.id);
      assert.equal(event.type, 'ORGANIZATION_CREATE');
      assert.equal(event.actor_type, 'operator');
    } finally {
      app.clock.set(new Date());
    }
  });

  test('a derived slug that is taken gets a numeric suffix', async () => {
    const name = `Twin ${unique()}`;
    const first = await create({ name });
    const second = await create({ name });
    assert.equal(first.status, 201);
    assert.equal(second.status, 201);
    assert.equal(second.body.slug, `${first.body.slug}-2`);
  });

  test('a name without letters or digits still gets a valid slug', async () => {
    const result = await create({ name: '!!!' });
    assert.equal(result.status, 201, result.text);
    assert.match(result.body.slug, /^[a-z0-9][a-z0-9-]*$/);
  });

  test('an explicit slug is used; a taken one gets 409', async () => {
    const slug = `explicit-${unique()}`;
    const first = await create({ name: 'Explicit', slug });
    assert.equal(first.status, 201);
    assert.equal(first.body.slug, slug);
    const taken = await create({ name: 'Explicit again', slug });
    assert.equal(taken.status, 409);
    assert.equal(taken.body.status, 409);
    assert.equal(taken.body.error, 'slug_taken');
  });

  test('bad slugs get 400 naming slug', async () => {
    for (const slug of ['Upper', '-dash', 'with space', 'a'.repeat(65), '', 'émile']) {
      const result = await create({ name: 'Bad slug', slug });
      assert.equal(result.status, 400, slug);
      assert.deepEqual(fieldsOf(result.body), ['slug'], slug);
    }
    assert.equal((await create({ name: 'Longest slug', slug: `a${unique()}${'b'.repeat(55)}` })).status, 201);
  });

  test('a name too long, empty or blank gets 400 naming name; 100 characters are fine', async () => {
    for (const name of ['n'.repeat(101), '', '    ']) {
      const result = await create({ name });
      assert.equal(result.status, 400, JSON.stringify(name));
      assert.deepEqual(fieldsOf(result.body), ['name']);
    }
    assert.equal((await create({})).status, 400);
    assert.deepEqual(fieldsOf((await create({})).body), ['name']);
    const longest = await create({ name: `${unique()}${'n'.repeat(92)}` });
    assert.equal(longest.status, 201, longest.text);
  });

  test('unknown fields and malformed JSON get 400', async () => {
    const unknown = await create({ name: 'x', owner: 'me' });
    assert.equal(unknown.status, 400);
    assert.deepEqual(fieldsOf(unknown.body), ['owner']);
    assert.equal((await create('{"name":')).status, 400);
  });
});

describe('members', () => {
  test('roles take effect immediately, and removal too', async () => {
    const org = await createOrganization(app);
    const userId = `user-${unique()}`;
    const headers = { authorization: `Bearer ${await mintJwt(userId, { org_id: org.id })}` };
    const path = `/organization/${org.id}/billingInfo`;
    const setRole = (role: string) => http(app, 'PUT', `/admin/organizations/${org.id}/members/${userId}`, { headers: app.admin, body: { role } });

    assert.equal((await http(app, 'GET', path, { headers })).status, 404);
    const added = await setRole('member');
    assert.equal(added.status, 200);
    assert.deepEqual({ ...added.body, created_at: undefined }, { organization_id: org.id, user_id: userId, role: 'member', created_at: undefined });
    assert.equal((await http(app, 'GET', path, { headers })).status, 403);
    assert.equal((await setRole('billing')).status, 200);
    assert.equal((await http(app, 'GET', path, { headers })).status, 200);
    assert.equal((await http(app, 'GET', '/api/v1/organization/billing', { headers })).status, 403);
    assert.equal((await setRole('admin')).status, 200);
    assert.equal((await http(app, 'GET', '/api/v1/organization/billing', { headers })).status, 200);
    assert.equal((await setRole('member')).status, 200);
    assert.equal((await http(app, 'GET', path, { headers })).status, 403);

    const removed = await http(app, 'DELETE', `/admin/organizations/${org.id}/members/${userId}`, { headers: app.admin });
    assert.equal(removed.status, 204);
    assert.equal(removed.text, '');
    assert.equal((await http(app, 'GET', path, { headers })).status, 404);
    assert.equal((await http(app, 'DELETE', `/admin/organizations/${org.id}/members/${userId}`, { headers: app.admin })).status, 404);

    const events = (await auditEvents(app, org.id)).filter((event) => event.changes.userId === userId);
    assert.deepEqual(
      events.map((event) => [event.type, event.changes.role.new]),
      [
        ['MEMBERSHIP_DELETE', null],
        ['MEMBERSHIP_SET', 'member'],
        ['MEMBERSHIP_SET', 'admin'],
        ['MEMBERSHIP_SET', 'billing'],
        ['MEMBERSHIP_SET', 'member'],
      ],
    );
  });

  test('setting the same role again records nothing new', async () => {
    const org = await createOrganization(app);
    const count = (await auditEvents(app, org.id)).length;
    const again = await http(app, 'PUT', `/admin/organizations/${org.id}/members/billing-${org.id}`, { headers: app.admin, body: { role: 'billing' } });
    assert.equal(again.status, 200);
    assert.equal((await auditEvents(app, org.id)).length, count);
  });

  test('a bad role, an unknown organization or a non-uuid id are refused', async () => {
    const org = await createOrganization(app);
    const badRole = await http(app, 'PUT', `/admin/organizations/${org.id}/members/u1`, { headers: app.admin, body: { role: 'superuser' } });
    assert.equal(badRole.status, 400);
    assert.deepEqual(fieldsOf(badRole.body), ['role']);
    assert.equal((await http(app, 'PUT', `/admin/organizations/${randomUUID()}/members/u1`, { headers: app.admin, body: { role: 'member' } })).status, 404);
    assert.equal((await http(app, 'PUT', '/admin/organizations/not-a-uuid/members/u1', { headers: app.admin, body: { role: 'member' } })).status, 400);
    const tooLong = await http(app, 'PUT', `/admin/organizations/${org.id}/members/${'u'.repeat(256)}`, { headers: app.admin, body: { role: 'member' } });
    assert.ok(tooLong.status === 400 || tooLong.status === 414, tooLong.text);
  });

  test(
    'a user id of up to 255 characters (the longest JWT subject accepted) can be made a member',
    async () => {
      const org = await createOrganization(app);
      const userId = `u${unique()}${'x'.repeat(246)}`;
      const result = await http(app, 'PUT', `/admin/organizations/${org.id}/members/${userId}`, { headers: app.admin, body: { role: 'billing' } });
      assert.equal(result.status, 200, result.text.slice(0, 200));
      const headers = { authorization: `Bearer ${await mintJwt(userId)}` };
      assert.equal((await http(app, 'GET', `/organization/${org.id}/billingInfo`, { headers })).status, 200);
    },
  );
});

describe('audit events', () => {
  test('newest first, with limit and type filters', async () => {
    const org = await createOrganization(app);
    await http(app, 'PATCH', `/api/v2/external/orgs/${org.slug}`, { headers: org.owner, body: { billing_city: 'One' } });
    await http(app, 'PATCH', `/api/v2/external/orgs/${org.slug}`, { headers: org.owner, body: { billing_city: 'Two' } });
    await http(app, 'PUT', `/admin/organizations/${org.id}/members/late-${unique()}`, { headers: app.admin, body: { role: 'member' } });
    const all = await auditEvents(app, org.id);
    assert.equal(all[0].type, 'MEMBERSHIP_SET');
    assert.equal(all[1].type, 'BILLING_DETAILS_UPDATE');
    assert.deepEqual(all[1].changes.city, { old: 'One', new: 'Two' });
    assert.deepEqual(all[2].changes.city, { old: null, new: 'One' });
    assert.equal(all[all.length - 1].type, 'ORGANIZATION_CREATE');
    for (let index = 1; index < all.length; index += 1) {
      assert.ok(Date.parse(all[index - 1].created_at) >= Date.parse(all[index].created_at));
    }
    const limited = await http(app, 'GET', `/admin/organizations/${org.id}/audit-events?limit=2`, { headers: app.admin });
    assert.deepEqual(limited.body.results, all.slice(0, 2));
    const typed = await http(app, 'GET', `/admin/organizations/${org.id}/audit-events?type=BILLING_DETAILS_UPDATE`, { headers: app.admin });
    assert.deepEqual(typed.body.results.map((event: { changes: { city: { new: string } } }) => event.changes.city.new), ['Two', 'One']);
  });

  test('an unknown organization gets 404; a bad limit 400', async () => {
    assert.equal((await http(app, 'GET', `/admin/organizations/${randomUUID()}/audit-events`, { headers: app.admin })).status, 404);
    const org = await createOrganization(app);
    assert.equal((await http(app, 'GET', `/admin/organizations/${org.id}/audit-events?limit=abc`, { headers: app.admin })).status, 400);
    assert.equal((await http(app, 'GET', `/admin/organizations/${org.id}/audit-events?since=yesterday`, { headers: app.admin })).status, 400);
  });
});

describe('API tokens', () => {
  test('shown once, stored only as a hash, listed without the token, revocable', async () => {
    const org = await createOrganization(app);
    const created = await http(app, 'POST', `/admin/organizations/${org.id}/api-tokens`, { headers: app.admin, body: { name: 'Deploy bot', role: 'billing' } });
    assert.equal(created.status, 201, created.text);
    const { id, token } = created.body;
    assert.equal(created.body.name, 'Deploy bot');
    assert.equal(created.body.role, 'billing');
    assert.equal(created.body.revoked_at, null);
    assert.equal(typeof token, 'string');
    assert.ok(token.length >= 32);

    const { rows } = await app.database.query<Record<string, unknown>>('SELECT * FROM api_tokens WHERE id = $1', [id]);
    assert.equal(rows.length, 1);
    for (const value of Object.values(rows[0]!)) {
      assert.ok(!String(value).includes(token), 'the plain token is stored nowhere in the row');
    }
    assert.equal(rows[0]!.token_hash, createHash('sha256').update(token).digest('hex'));
    const everywhere = await app.database.query<{ hits: bigint }>(
      `SELECT (SELECT count(*) FROM api_tokens WHERE position($1 in token_hash || name) > 0)
            + (SELECT count(*) FROM audit_events WHERE position($1 in changes::text) > 0)
            + (SELECT count(*) FROM settings WHERE position($1 in value) > 0) AS hits`,
      [token],
    );
    assert.equal(everywhere.rows[0]!.hits, 0n);

    const listed = await http(app, 'GET', `/admin/organizations/${org.id}/api-tokens`, { headers: app.admin });
    assert.equal(listed.status, 200);
    assert.equal(listed.body.results.length, 1);
    assert.equal(listed.body.results[0].id, id);
    assert.ok(!listed.text.includes(token));
    assert.equal(listed.body.results[0].token, undefined);

    assert.equal((await http(app, 'GET', `/organization/${org.id}/billingInfo`, { headers: { authorization: `Token ${token}` } })).status, 200);
    assert.equal((await http(app, 'DELETE', `/admin/organizations/${org.id}/api-tokens/${id}`, { headers: app.admin })).status, 204);
    assert.equal((await http(app, 'GET', `/organization/${org.id}/billingInfo`, { headers: { authorization: `Token ${token}` } })).status, 401);
    assert.equal((await http(app, 'DELETE', `/admin/organizations/${org.id}/api-tokens/${id}`, { headers: app.admin })).status, 404);
    const afterRevoke = await http(app, 'GET', `/admin/organizations/${org.id}/api-tokens`, { headers: app.admin });
    assert.ok(afterRevoke.body.results[0].revoked_at);
    const types = (await auditEvents(app, org.id)).map((event) => event.type);
    assert.deepEqual(types.slice(0, 2), ['API_TOKEN_REVOKE', 'API_TOKEN_CREATE']);
  });

  test("another organization's token id cannot be revoked through this organization", async () => {
    const org = await createOrganization(app);
    const other = await createOrganization(app);
    const created = await http(app, 'POST', `/admin/organizations/${other.id}/api-tokens`, { headers: app.admin, body: { name: 'theirs', role: 'admin' } });
    assert.equal((await http(app, 'DELETE', `/admin/organizations/${org.id}/api-tokens/${created.body.id}`, { headers: app.admin })).status, 404);
    assert.equal((await http(app, 'GET', `/organization/${other.id}/billingInfo`, { headers: { authorization: `Token ${created.body.token}` } })).status, 200);
  });

  test('an unknown organization, a bad role or a missing name are refused', async () => {
    assert.equal((await http(app, 'POST', `/admin/organizations/${randomUUID()}/api-tokens`, { headers: app.admin, body: { name: 'x', role: 'admin' } })).status, 404);
    const org = await createOrganization(app);
    assert.equal((await http(app, 'POST', `/admin/organizations/${org.id}/api-tokens`, { headers: app.admin, body: { name: 'x', role: 'root' } })).status, 400);
    assert.equal((await http(app, 'POST', `/admin/organizations/${org.id}/api-tokens`, { headers: app.admin, body: { role: 'admin' } })).status, 400);
    assert.equal((await http(app, 'POST', `/admin/organizations/${org.id}/api-tokens`, { headers: app.admin, body: { name: '   ', role: 'admin' } })).status, 400);
    assert.equal((await http(app, 'GET', `/admin/organizations/${randomUUID()}/api-tokens`, { headers: app.admin })).status, 404);
  });
});
