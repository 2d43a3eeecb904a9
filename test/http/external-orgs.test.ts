/** Seed 001: GET and PATCH /api/v2/external/orgs/{slug}, on a real server and database. */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { auditEvents, createOrganization, http, mintJwt, startTestApp, type OrganizationFixture, type TestApp } from '../support/test-app.js';

let app: TestApp;
before(async () => {
  app = await startTestApp();
});
after(async () => {
  await app.close();
});

const path = (slug: string) => `/api/v2/external/orgs/${slug}`;

const allDetails = {
  billing_company_name: 'Acme GmbH',
  billing_address_line1: 'Hauptstraße 1',
  billing_address_line2: 'Hinterhaus',
  billing_city: 'Berlin',
  billing_state: 'Berlin',
  billing_postal_code: '10115',
  billing_country: 'DE',
  billing_tax_id: 'DE123456789',
  billing_tax_id_type: 'eu_vat',
};

async function read(org: OrganizationFixture, slug = org.slug) {
  const result = await http(app, 'GET', path(slug), { headers: org.owner });
  assert.equal(result.status, 200, result.text);
  return result.body;
}

/** Runs requests that must fail and checks that neither the organization nor its audit trail moved. */
async function expectNothingWritten(org: OrganizationFixture, attempt: () => Promise<void>): Promise<void> {
  const before = await read(org);
  const eventsBefore = (await auditEvents(app, org.id)).length;
  await attempt();
  assert.deepEqual(await read(org), before);
  assert.equal((await auditEvents(app, org.id)).length, eventsBefore);
}

async function patch(org: OrganizationFixture, body: unknown, headers: Record<string, string> = {}) {
  return http(app, 'PATCH', path(org.slug), { headers: { ...org.owner, ...headers }, body });
}

/** The 422 body of this API: `{ detail: [{ type, loc, msg }] }`; returns the named fields, sorted. */
function locs(result: { status: number; body: any; text: string }): string[] {
  assert.equal(result.status, 422, result.text);
  assert.ok(Array.isArray(result.body.detail), result.text);
  for (const item of result.body.detail) {
    assert.equal(typeof item.type, 'string');
    assert.equal(typeof item.msg, 'string');
    assert.ok(Array.isArray(item.loc));
  }
  // One field may break several rules (an empty slug: length and pattern); each field is named at least once.
  return [...new Set<string>(result.body.detail.map((item: { loc: string[] }) => item.loc.join('.')))].sort();
}

describe('read', () => {
  test('GET answers the organization with empty billing details and an ETag', async () => {
    const org = await createOrganization(app);
    const result = await http(app, 'GET', path(org.slug), { headers: org.owner });
    assert.equal(result.status, 200);
    assert.equal(result.body.id, org.id);
    assert.equal(result.body.slug, org.slug);
    assert.equal(typeof result.body.name, 'string');
    assert.ok(!Number.isNaN(Date.parse(result.body.created_at)));
    assert.equal(result.body.billing_email, null);
    assert.deepEqual(result.body.billing_details, Object.fromEntries(Object.keys(allDetails).map((key) => [key, null])));
    assert.match(result.headers.get('etag') ?? '', /^"\d+"$/);
  });

  test('an unknown slug and another organization answer the same 404 { detail }', async () => {
    const org = await createOrganization(app);
    const other = await createOrganization(app);
    const unknown = await http(app, 'GET', path(`no-such-org-${randomBytes(4).toString('hex')}`), { headers: org.owner });
    const foreign = await http(app, 'GET', path(other.slug), { headers: org.owner });
    assert.equal(unknown.status, 404);
    assert.equal(foreign.status, 404);
    assert.deepEqual(foreign.body, unknown.body);
    assert.equal(typeof unknown.body.detail, 'string');
    await expectNothingWritten(other, async () => {
      const result = await http(app, 'PATCH', path(other.slug), { headers: org.owner, body: { billing_city: 'Nope' } });
      assert.equal(result.status, 404);
      assert.deepEqual(result.body, unknown.body);
    });
  });

  test('a plain member gets 403, no credentials 401', async () => {
    const org = await createOrganization(app);
    const member = await http(app, 'GET', path(org.slug), { headers: org.member });
    assert.equal(member.status, 403);
    assert.equal(typeof member.body.detail, 'string');
    await expectNothingWritten(org, async () => {
      assert.equal((await http(app, 'PATCH', path(org.slug), { headers: org.member, body: { billing_city: 'x' } })).status, 403);
      const anonymous = await http(app, 'PATCH', path(org.slug), { body: { billing_city: 'x' } });
      assert.equal(anonymous.status, 401);
      assert.equal(typeof anonymous.body.detail, 'string');
    });
  });
});

describe('partial update', () => {
  test('all billing fields and the e-mail are applied and read back', async () => {
    const org = await createOrganization(app);
    const result = await patch(org, { ...allDetails, billing_email: 'billing@acme.example' });
    assert.equal(result.status, 200, result.text);
    assert.deepEqual(result.body.billing_details, allDetails);
    assert.equal(result.body.billing_email, 'billing@acme.example');
    assert.deepEqual(await read(org), result.body);
  });

  test('only the fields present change', async () => {
    const org = await createOrganization(app);
    await patch(org, { ...allDetails, billing_email: 'billing@acme.example' });
    const before = await read(org);
    const result = await patch(org, { billing_city: 'Hamburg' });
    assert.equal(result.status, 200);
    assert.deepEqual(result.body, { ...before, billing_details: { ...before.billing_details, billing_city: 'Hamburg' } });
    const [event] = await auditEvents(app, org.id);
    assert.equal(event.type, 'BILLING_DETAILS_UPDATE');
    assert.equal(event.surface, 'external-orgs');
    assert.deepEqual(event.changes, { city: { old: 'Berlin', new: 'Hamburg' } });
  });

  test('an empty patch changes nothing and records nothing', async () => {
    const org = await createOrganization(app);
    await patch(org, allDetails);
    await expectNothingWritten(org, async () => {
      const result = await patch(org, {});
      assert.equal(result.status, 200);
    });
  });

  test('null clears a field and leaves the others', async () => {
    const org = await createOrganization(app);
    await patch(org, { ...allDetails, billing_email: 'billing@acme.example' });
    const result = await patch(org, { billing_address_line2: null, billing_email: null, billing_state: null });
    assert.equal(result.status, 200, result.text);
    assert.equal(result.body.billing_email, null);
    assert.deepEqual(result.body.billing_details, { ...allDetails, billing_address_line2: null, billing_state: null });
  });

  test('clearing the tax id clears its type too', async () => {
    const org = await createOrganization(app);
    await patch(org, allDetails);
    const result = await patch(org, { billing_tax_id: null });
    assert.equal(result.status, 200);
    assert.equal(result.body.billing_details.billing_tax_id, null);
    assert.equal(result.body.billing_details.billing_tax_id_type, null);
    const [event] = await auditEvents(app, org.id);
    assert.deepEqual(event.changes.taxIdType, { old: 'eu_vat', new: null });
  });

  test('a tax id type without a tax id is refused, not dropped silently', async () => {
    const org = await createOrganization(app);
    await expectNothingWritten(org, async () => {
      assert.deepEqual(locs(await patch(org, { billing_tax_id_type: 'eu_vat' })), ['body.billing_tax_id_type']);
    });
  });

  test('a lower-case country code is stored upper-case', async () => {
    const org = await createOrganization(app);
    const result = await patch(org, { billing_country: 'fr' });
    assert.equal(result.status, 200);
    assert.equal(result.body.billing_details.billing_country, 'FR');
  });
});

describe('name and slug', () => {
  test('renaming and changing the slug: the new slug works, the old one is 404', async () => {
    const org = await createOrganization(app);
    const oldSlug = org.slug;
    const newSlug = `renamed-${randomBytes(4).toString('hex')}`;
    const result = await patch(org, { name: 'Renamed Inc.', slug: newSlug });
    assert.equal(result.status, 200, result.text);
    assert.equal(result.body.name, 'Renamed Inc.');
    assert.equal(result.body.slug, newSlug);
    assert.equal(result.body.id, org.id);
    assert.equal((await http(app, 'GET', path(oldSlug), { headers: org.owner })).status, 404);
    assert.equal((await http(app, 'PATCH', path(oldSlug), { headers: org.owner, body: { billing_city: 'x' } })).status, 404);
    const renamed = await read(org, newSlug);
    assert.equal(renamed.name, 'Renamed Inc.');
    const [event] = await auditEvents(app, org.id);
    assert.deepEqual(event.changes.slug, { old: oldSlug, new: newSlug });
    const admin = await http(app, 'GET', `/admin/organizations/${org.id}/audit-events`, { headers: app.admin });
    assert.equal(admin.status, 200);
  });

  test('a taken slug gets 409 { detail } and changes nothing', async () => {
    const org = await createOrganization(app);
    const other = await createOrganization(app);
    await expectNothingWritten(org, async () => {
      const result = await patch(org, { slug: other.slug, billing_city: 'Berlin' });
      assert.equal(result.status, 409);
      assert.equal(typeof result.body.detail, 'string');
    });
  });

  test('slug pattern violations get 422 naming slug', async () => {
    const org = await createOrganization(app);
    await expectNothingWritten(org, async () => {
      for (const slug of ['Upper', '-leading-dash', 'has space', 'under_score', 'ümlaut', '']) {
        assert.deepEqual(locs(await patch(org, { slug })), ['body.slug'], slug);
      }
    });
  });

  test('slug length: 1 and 64 accepted, 65 refused', async () => {
    const org = await createOrganization(app);
    await expectNothingWritten(org, async () => {
      assert.deepEqual(locs(await patch(org, { slug: `s${'x'.repeat(64)}` })), ['body.slug']);
    });
    const short = await patch(org, { slug: '7' });
    assert.equal(short.status, 200, short.text);
    assert.equal((await read(org, '7')).slug, '7');
    const longest = `l${randomBytes(4).toString('hex')}${'x'.repeat(55)}`;
    assert.equal(longest.length, 64);
    const result = await http(app, 'PATCH', path('7'), { headers: org.owner, body: { slug: longest } });
    assert.equal(result.status, 200, result.text);
    assert.equal((await read(org, longest)).slug, longest);
  });

  test('name length: 1 and 100 accepted, empty, blank and 101 refused', async () => {
    const org = await createOrganization(app);
    await expectNothingWritten(org, async () => {
      assert.deepEqual(locs(await patch(org, { name: '' })), ['body.name']);
      assert.deepEqual(locs(await patch(org, { name: '   ' })), ['body.name']);
      assert.deepEqual(locs(await patch(org, { name: 'n'.repeat(101) })), ['body.name']);
    });
    assert.equal((await patch(org, { name: 'n' })).status, 200);
    const result = await patch(org, { name: 'n'.repeat(100) });
    assert.equal(result.status, 200);
    assert.equal(result.body.name, 'n'.repeat(100));
  });

  test('name and slug cannot be cleared with null', async () => {
    const org = await createOrganization(app);
    await expectNothingWritten(org, async () => {
      assert.deepEqual(locs(await patch(org, { name: null })), ['body.name']);
      assert.deepEqual(locs(await patch(org, { slug: null })), ['body.slug']);
    });
  });
});

describe('documented limits', () => {
  const limits: Record<string, number> = {
    billing_company_name: 255,
    billing_address_line1: 255,
    billing_address_line2: 255,
    billing_city: 128,
    billing_state: 128,
    billing_postal_code: 32,
    billing_tax_id: 64,
  };

  for (const [field, limit] of Object.entries(limits)) {
    test(`${field}: ${limit} accepted, ${limit + 1} refused with 422`, async () => {
      const org = await createOrganization(app);
      // A tax id type needs a tax id.
      const base = field === 'billing_tax_id_type' ? { billing_tax_id: 'DE123456789' } : {};
      await expectNothingWritten(org, async () => {
        assert.deepEqual(locs(await patch(org, { ...base, [field]: 'y'.repeat(limit + 1) })), [`body.${field}`]);
      });
      const result = await patch(org, { ...base, [field]: 'y'.repeat(limit) });
      assert.equal(result.status, 200, result.text);
      assert.equal(result.body.billing_details[field], 'y'.repeat(limit));
    });
  }

  test("billing_tax_id_type: one of the payment provider's types, else 422; the id's status is read back", async () => {
    const org = await createOrganization(app);
    await expectNothingWritten(org, async () => {
      for (const billing_tax_id_type of ['vat', 'EU_VAT', 'y'.repeat(32), 'y'.repeat(33)]) {
        assert.deepEqual(locs(await patch(org, { billing_tax_id: 'DE123456789', billing_tax_id_type })), ['body.billing_tax_id_type']);
      }
    });
    const accepted = await patch(org, { billing_tax_id: 'DE136695976', billing_tax_id_type: 'eu_vat', billing_country: 'DE' });
    assert.equal(accepted.status, 200, accepted.text);
    assert.equal(accepted.body.billing_tax_id_status, 'valid');
    // Any string is kept (seed 002 does not validate VAT numbers); the status says it is not well-formed.
    const kept = await patch(org, { billing_tax_id: 'DE123456789' });
    assert.equal(kept.body.billing_details.billing_tax_id, 'DE123456789');
    assert.equal(kept.body.billing_tax_id_status, 'invalid');
    assert.equal((await patch(org, { billing_tax_id: '12-3456789', billing_tax_id_type: 'us_ein' })).body.billing_tax_id_status, 'unchecked');
    assert.equal((await patch(org, { billing_tax_id: null, billing_tax_id_type: null })).body.billing_tax_id_status, 'none');
  });

  test('billing_country: 2 letters accepted, longer or not ISO refused with 422', async () => {
    const org = await createOrganization(app);
    await expectNothingWritten(org, async () => {
      for (const billing_country of ['DEU', 'Germany', 'ZZ', 'X', '1A']) {
        assert.deepEqual(locs(await patch(org, { billing_country })), ['body.billing_country'], billing_country);
      }
    });
    assert.equal((await patch(org, { billing_country: 'DE' })).status, 200);
  });

  test('billing_email must be an e-mail address', async () => {
    const org = await createOrganization(app);
    await expectNothingWritten(org, async () => {
      for (const billing_email of ['nope', 'a@b', 'x y@example.com']) {
        assert.deepEqual(locs(await patch(org, { billing_email })), ['body.billing_email'], billing_email);
      }
    });
  });

  test('several bad fields are all named at once', async () => {
    const org = await createOrganization(app);
    const named = locs(await patch(org, { billing_city: 'c'.repeat(129), billing_email: 'nope', slug: 'Bad Slug' }));
    assert.deepEqual(named, ['body.billing_city', 'body.billing_email', 'body.slug']);
  });
});

describe('other bad input', () => {
  test('wrong types and unknown fields get 422 naming them', async () => {
    const org = await createOrganization(app);
    await expectNothingWritten(org, async () => {
      assert.deepEqual(locs(await patch(org, { billing_city: 12 })), ['body.billing_city']);
      assert.deepEqual(locs(await patch(org, { plan: 'ENTERPRISE' })), ['body.plan']);
    });
  });

  test('malformed JSON gets 422 json_invalid', async () => {
    const org = await createOrganization(app);
    await expectNothingWritten(org, async () => {
      const result = await patch(org, '{"billing_city": ');
      assert.equal(result.status, 422);
      assert.equal(result.body.detail[0].type, 'json_invalid');
    });
  });

  test('a body over 64 KiB gets 413 { detail }', async () => {
    const org = await createOrganization(app);
    await expectNothingWritten(org, async () => {
      const result = await patch(org, { billing_company_name: 'x'.repeat(70_000) });
      assert.equal(result.status, 413);
      assert.equal(typeof result.body.detail, 'string');
    });
  });

  test('a stale If-Match gets 412 and changes nothing; the current one succeeds', async () => {
    const org = await createOrganization(app);
    const etag = (await http(app, 'GET', path(org.slug), { headers: org.owner })).headers.get('etag')!;
    const first = await patch(org, { billing_city: 'Berlin' }, { 'if-match': etag });
    assert.equal(first.status, 200);
    await expectNothingWritten(org, async () => {
      const result = await patch(org, { billing_city: 'Hamburg' }, { 'if-match': etag });
      assert.equal(result.status, 412);
      assert.equal(typeof result.body.detail, 'string');
    });
    assert.equal((await patch(org, { billing_city: 'Hamburg' }, { 'if-match': first.headers.get('etag')! })).status, 200);
  });

  test('a billing manager may patch; a stranger with a valid JWT gets 404', async () => {
    const org = await createOrganization(app);
    assert.equal((await http(app, 'PATCH', path(org.slug), { headers: org.billing, body: { billing_city: 'Köln' } })).status, 200);
    const stranger = { authorization: `Bearer ${await mintJwt('stranger-external-orgs')}` };
    assert.equal((await http(app, 'GET', path(org.slug), { headers: stranger })).status, 404);
  });
});

describe('concurrency', () => {
  test(
    'concurrent partial updates of different fields are all applied, none refused',
    async () => {
      const org = await createOrganization(app);
      const fields = ['billing_company_name', 'billing_address_line1', 'billing_address_line2', 'billing_city', 'billing_state', 'billing_postal_code', 'billing_tax_id'];
      const writes = Array.from({ length: 28 }, (_, index) => ({ field: fields[index % fields.length]!, value: `v${index}` }));
      const results = await Promise.all(writes.map(({ field, value }) => patch(org, { [field]: value })));
      assert.deepEqual(results.map((result) => result.status), writes.map(() => 200));
      // No lost update: every field holds one of the values written to it, and every write left an audit event.
      const details = (await read(org)).billing_details;
      for (const field of fields) {
        assert.ok(writes.some((write) => write.field === field && write.value === details[field]), `${field} = ${details[field]}`);
      }
      const events = await http(app, 'GET', `/admin/organizations/${org.id}/audit-events?type=BILLING_DETAILS_UPDATE`, { headers: app.admin });
      assert.equal(events.body.results.length, writes.length);
    },
  );
});
