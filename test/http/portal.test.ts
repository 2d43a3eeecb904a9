/** The billing page's doors without a browser: portal links, the session cookie, CSRF, CSP, access, selectable plans. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import sql from 'sql-template-tag';
import { acmeBillingInfo, createBillingOrganization, putPlan, setBillingInfo } from './invoice-fixtures.js';
import { auditEvents, http, type OrganizationFixture, type TestApp, startTestApp } from '../support/test-app.js';

let app: TestApp;
let org: OrganizationFixture;
let other: OrganizationFixture;

before(async () => {
  app = await startTestApp();
  org = await createBillingOrganization(app, { name: 'Acme' });
  other = await createBillingOrganization(app, { name: 'Umbrella' });
});
after(async () => app.close());

async function createLink(organizationId: string, body: unknown = {}) {
  return http(app, 'POST', `/admin/organizations/${organizationId}/portal-sessions`, { headers: app.admin, body });
}

/** Opens a fresh link: the session cookie and the CSRF token of its page. */
async function signIn(organizationId = org.id): Promise<{ cookie: string; csrf: string }> {
  const link = await createLink(organizationId);
  const opened = await fetch(link.body.url, { redirect: 'manual' });
  assert.equal(opened.status, 303);
  const cookie = opened.headers.get('set-cookie')!.split(';')[0]!;
  const page = await fetch(`${app.baseUrl}/portal/${organizationId}`, { headers: { cookie } });
  assert.equal(page.status, 200);
  const csrf = /name="_csrf" value="([^"]+)"/.exec(await page.text())![1]!;
  return { cookie, csrf };
}

function post(path: string, session: { cookie: string }, fields: Record<string, string>, headers: Record<string, string> = {}) {
  return fetch(`${app.baseUrl}${path}`, {
    method: 'POST',
    redirect: 'manual',
    headers: { cookie: session.cookie, 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(fields),
  });
}

describe('POST /admin/organizations/{id}/portal-sessions', () => {
  it('answers an absolute link from BURSAR_PUBLIC_URL, valid 10 minutes of wall-clock time whatever the test clock says', async () => {
    app.clock.set(new Date('2031-06-01T00:00:00Z'));
    const config = app.app.context.config;
    const publicUrl = config.publicUrl;
    config.publicUrl = 'https://billing.example.com';
    try {
      const before = Date.now();
      const link = await createLink(org.id, { return_url: 'https://console.example.com/org/1', user_id: 'user-42' });
      assert.equal(link.status, 201, link.text);
      assert.deepEqual(Object.keys(link.body).sort(), ['expires_at', 'url']);
      assert.match(link.body.url, /^https:\/\/billing\.example\.com\/portal\/enter\?token=[A-Za-z0-9_-]{43}$/);
      const lifetime = Date.parse(link.body.expires_at) - before;
      assert.ok(lifetime > 9.9 * 60_000 && lifetime <= 10 * 60_000 + 1000, `lifetime ${lifetime}`);
    } finally {
      config.publicUrl = publicUrl;
    }
    // The business clock a year on does not expire the link.
    app.clock.set(new Date('2032-06-01T00:00:00Z'));
    const link = await createLink(org.id);
    const opened = await fetch(link.body.url, { redirect: 'manual' });
    assert.equal(opened.status, 303);
    assert.equal(opened.headers.get('location'), `/portal/${org.id}`);
    const cookie = opened.headers.get('set-cookie')!;
    assert.match(cookie, /^bursar_portal=[A-Za-z0-9_-]+; Max-Age=3600; Path=\/portal; HttpOnly; SameSite=Lax$/);
    const events = await auditEvents(app, org.id);
    assert.ok(events.some((event) => event.type === 'PORTAL_SESSION_CREATE' && event.changes.userId === 'user-42'));
  });

  it('refuses a bad return_url, an unknown organization and anyone but the operator', async () => {
    const bad = await createLink(org.id, { return_url: 'javascript:alert(1)' });
    assert.equal(bad.status, 400);
    assert.deepEqual(bad.body.fields, [{ field: 'return_url', message: 'must be an absolute http or https URL' }]);
    assert.equal((await createLink('00000000-0000-4000-8000-000000000000')).status, 404);
    const byOwner = await http(app, 'POST', `/admin/organizations/${org.id}/portal-sessions`, { headers: org.owner, body: {} });
    assert.equal(byOwner.status, 403);
  });

  it('opens once; an expired link says so and leads back to return_url', async () => {
    const link = await createLink(org.id, { return_url: 'https://console.example.com/back' });
    assert.equal((await fetch(link.body.url, { redirect: 'manual' })).status, 303);
    const used = await fetch(link.body.url, { redirect: 'manual' });
    assert.equal(used.status, 410);
    const usedPage = await used.text();
    assert.match(usedPage, /This link has already been used/);
    assert.match(usedPage, /href="https:\/\/console\.example\.com\/back"/);
    assert.equal(used.headers.get('set-cookie'), null);

    const stale = await createLink(org.id, { return_url: 'https://console.example.com/back' });
    await app.database.query(sql`UPDATE portal_sessions SET link_expires_at = now() - interval '1 second' WHERE link_used_at IS NULL`);
    const expired = await fetch(stale.body.url, { redirect: 'manual' });
    assert.equal(expired.status, 410);
    assert.match(await expired.text(), /This link has expired/);
    const garbled = await fetch(`${app.baseUrl}/portal/enter?token=not-a-token-at-all-but-long`, { redirect: 'manual' });
    assert.equal(garbled.status, 404);
  });

  it('ends a session after its hour', async () => {
    const session = await signIn();
    await app.database.query(sql`UPDATE portal_sessions SET session_expires_at = now() - interval '1 second' WHERE session_expires_at IS NOT NULL`);
    const page = await fetch(`${app.baseUrl}/portal/${org.id}`, { headers: { cookie: session.cookie } });
    assert.equal(page.status, 401);
    assert.match(await page.text(), /Your billing session has ended/);
  });
});

describe('the billing page', () => {
  it('sends a strict Content-Security-Policy, and no page without credentials', async () => {
    const session = await signIn();
    const page = await fetch(`${app.baseUrl}/portal/${org.id}`, { headers: { cookie: session.cookie } });
    const policy = page.headers.get('content-security-policy')!;
    assert.match(policy, /default-src 'none'/);
    assert.match(policy, /script-src 'none'/);
    assert.match(policy, /frame-ancestors 'none'/);
    assert.doesNotMatch(policy, /unsafe-inline|unsafe-eval|https?:\/\/(?!127\.0\.0\.1)/);
    assert.doesNotMatch(await page.text(), /<script|style="| on[a-z]+="/);
    assert.equal(page.headers.get('cache-control'), 'no-store');
    const anonymous = await fetch(`${app.baseUrl}/portal/${org.id}`);
    assert.equal(anonymous.status, 401);
  });

  it('refuses a write without the CSRF token or from another origin', async () => {
    const session = await signIn();
    const path = `/portal/${org.id}/credit-code`;
    assert.equal((await post(path, session, { code: 'X' })).status, 403);
    assert.equal((await post(path, session, { code: 'X', _csrf: 'forged' })).status, 403);
    const foreign = await post(path, session, { code: 'X', _csrf: session.csrf }, { origin: 'https://evil.example' });
    assert.equal(foreign.status, 403);
    assert.match(await foreign.text(), /came from another site/);
    // Another session's token is no good either.
    const second = await signIn();
    assert.equal((await post(path, session, { code: 'X', _csrf: second.csrf })).status, 403);
  });

  it('shows nothing of another organization: its page and its writes answer 404', async () => {
    const session = await signIn();
    const page = await fetch(`${app.baseUrl}/portal/${other.id}`, { headers: { cookie: session.cookie } });
    assert.equal(page.status, 404);
    assert.doesNotMatch(await page.text(), /Umbrella/);
    const write = await post(`/portal/${other.id}/credit-code`, session, { code: 'X', _csrf: session.csrf });
    assert.equal(write.status, 404);
    assert.equal((await fetch(`${app.baseUrl}/portal/not-a-uuid`, { headers: { cookie: session.cookie } })).status, 404);
  });

  it('changes the plan only to a plan the operator marked selectable, audited as the portal', async () => {
    await putPlan(app, 'HIDDEN', { monthly: 100, kind: 'credits' });
    const selectable = await http(app, 'PUT', '/admin/plans/OPEN', {
      headers: app.admin,
      body: { name: 'Open', monthly_price_in_cents: 500, currency: 'USD', kind: 'invoiced', trial_days: 0, selectable: true },
    });
    assert.equal(selectable.body.selectable, true);
    // Left out, the flag stays as it was.
    const again = await http(app, 'PUT', '/admin/plans/OPEN', {
      headers: app.admin,
      body: { name: 'Open plan', monthly_price_in_cents: 500, currency: 'USD', kind: 'invoiced', trial_days: 0 },
    });
    assert.equal(again.body.selectable, true);
    await setBillingInfo(app, org, acmeBillingInfo);

    const session = await signIn();
    const page = await (await fetch(`${app.baseUrl}/portal/${org.id}`, { headers: { cookie: session.cookie } })).text();
    assert.match(page, /<option value="OPEN"/);
    assert.doesNotMatch(page, /<option value="HIDDEN"/);
    const hidden = await post(`/portal/${org.id}/plan`, session, { plan: 'HIDDEN', _csrf: session.csrf });
    assert.equal(hidden.status, 422);
    assert.match(await hidden.text(), /id="plan-plan-error">This is not one of the plans you can choose\./);
    const open = await post(`/portal/${org.id}/plan`, session, { plan: 'OPEN', _csrf: session.csrf });
    assert.equal(open.status, 303);
    assert.equal(open.headers.get('location'), `/portal/${org.id}?done=plan-changed#plan`);
    const change = (await auditEvents(app, org.id)).find((event) => event.type === 'PLAN_CHANGE');
    assert.equal(change.actor_type, 'portal');
    assert.equal(change.surface, 'portal');
  });

  it('adds an address, makes it the default and deletes the other, through the seed 003 use cases', async () => {
    const session = await signIn();
    const incomplete = await post(`/portal/${org.id}/addresses`, session, { _csrf: session.csrf, name: 'HQ', company: '', address_line_1: '', city: 'Berlin', state: 'BE', postal_code: '10115', country: 'DE' });
    assert.equal(incomplete.status, 400);
    const form = await incomplete.text();
    assert.match(form, /id="address-company-error">Fill in this field\./);
    assert.match(form, /id="address-city"[^>]*value="Berlin"/);
    const added = await post(`/portal/${org.id}/addresses`, session, {
      _csrf: session.csrf, name: 'HQ', company: 'Acme GmbH', address_line_1: 'Unter den Linden 1', address_line_2: '', city: 'Berlin', state: 'BE', postal_code: '10115', country: 'DE',
    });
    assert.equal(added.status, 303, await added.text());
    const listed = await http(app, 'GET', `/organizations/${org.id}/billing-addresses`, { headers: org.owner });
    const addresses: any[] = listed.body.data.billing_addresses;
    const hq = addresses.find((address) => address.name === 'HQ');
    assert.ok(hq && !hq.is_default);
    const previous = addresses.find((address) => address.is_default);
    const madeDefault = await post(`/portal/${org.id}/addresses/${hq.id}/default`, session, { _csrf: session.csrf });
    assert.equal(madeDefault.status, 303, (await madeDefault.text()).match(/<p class="(form-error|field-error)[^<]*|<h1>[^<]*|<p>[^<]*/g)?.join());
    const deleted = await post(`/portal/${org.id}/addresses/${previous.id}/delete`, session, { _csrf: session.csrf });
    assert.equal(deleted.status, 303, (await deleted.text()).match(/<p class="(form-error|field-error)[^<]*|<h1>[^<]*/g)?.join());
    const after = await http(app, 'GET', `/organizations/${org.id}/billing-addresses`, { headers: org.owner });
    assert.deepEqual(after.body.data.billing_addresses.map((address: any) => [address.name, address.is_default]), [['HQ', true]]);
  });

  it('downloads a usage report for the days chosen, and e-mails the invoices', async () => {
    app.clock.set(new Date('2032-06-15T12:00:00Z'));
    const session = await signIn();
    const report = await post(`/portal/${org.id}/usage-report`, session, { _csrf: session.csrf, from: '2032-06-01', to: '2032-06-14' });
    assert.equal(report.status, 303);
    const csv = await fetch(report.headers.get('location')!);
    assert.equal(csv.status, 200);
    assert.match(csv.headers.get('content-type') ?? '', /text\/csv/);
    const backwards = await post(`/portal/${org.id}/usage-report`, session, { _csrf: session.csrf, from: '2032-06-10', to: '2032-06-01' });
    assert.equal(backwards.status, 422);
    assert.match(await backwards.text(), /id="usage-report-to-error">This must be after from\./);
    const emailed = await post(`/portal/${org.id}/invoices/email`, session, { _csrf: session.csrf });
    assert.equal(emailed.status, 303);
    assert.equal(emailed.headers.get('location'), `/portal/${org.id}?done=invoices-emailed#invoices`);
  });
});
