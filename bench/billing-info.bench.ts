/**
 * GET and PUT /organization/{id}/billingInfo under load (50 connections, JWT-authenticated, many organizations),
 * against plain Fastify (no authentication, no logging, no validation) doing the same single SELECT by key that the
 * route runs, and an UPDATE of the profile plus the audit INSERT in one transaction.
 */
import { randomUUID } from 'node:crypto';
import Fastify from 'fastify';
import { billingProfileEntryStatement } from '../src/billing/profile/billing-profile.js';
import {
  compareUnderLoad,
  openBaselinePool,
  openBenchDatabase,
  startBenchApp,
  warmUp,
  type BenchFigure,
  type RequestTemplate,
  seedOrganizations,
} from './support.js';
import type { Database } from '../src/db/database.js';
import type { Caller } from '../src/domain/actor.js';

const ORGANIZATIONS = Number(process.env.BENCH_BILLING_INFO_ORGANIZATIONS ?? 2000);

export async function run(): Promise<BenchFigure[]> {
  const bench = await openBenchDatabase();
  const app = await startBenchApp(bench);
  const pool = openBaselinePool(bench);
  const baseline = Fastify({ logger: false });
  try {
    const organizations = await seedOrganizations(bench.database, ORGANIZATIONS);
    await seedProfiles(bench.database);

    // The same single SELECT by key as the real route (profile, default address and the caller's membership).
    baseline.get<{ Params: { id: string } }>('/baseline/:id', async (request) => {
      // Prepared, as the route's is: the comparison is of everything around the query, not of query planning.
      const statement = billingProfileEntryStatement(memberOf(request.params.id), { id: request.params.id });
      const result = await pool.query({ name: 'baseline_profile', text: statement.text, values: statement.values });
      return result.rows[0] ?? {};
    });
    baseline.put<{ Params: { id: string }; Body: { first_name: string; city: string } }>('/baseline/:id', async (request) => {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        await client.query('UPDATE billing_profiles SET contact_first_name = $2, updated_at = now() WHERE organization_id = $1', [
          request.params.id,
          request.body.first_name,
        ]);
        await client.query(
          `INSERT INTO audit_events (id, organization_id, type, actor_type, actor_id, surface, changes, request_id, created_at)
           VALUES ($1, $2, 'BILLING_DETAILS_UPDATE', 'user', $3, 'baseline', $4, $5, now())`,
          [randomUUID(), request.params.id, 'user', JSON.stringify({ city: request.body.city }), request.id],
        );
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK');
        throw error;
      } finally {
        client.release();
      }
      return request.body;
    });
    const baselineUrl = await baseline.listen({ port: 0, host: '127.0.0.1' });

    const getReal: RequestTemplate[] = organizations.map((o) => ({
      method: 'GET',
      path: `/organization/${o.id}/billingInfo`,
      headers: { authorization: o.authorization },
    }));
    const getBaseline: RequestTemplate[] = organizations.map((o) => ({ method: 'GET', path: `/baseline/${o.id}` }));
    const putBody = (city: string) =>
      JSON.stringify({
        first_name: 'Forrest',
        last_name: 'Gump',
        email: 'forrest@gump.com',
        address: '21 Jenny Street',
        city,
        zip: '36744',
        country_code: 'US',
      });
    // Alternating cities: every request is a real change with its audit event.
    const putReal: RequestTemplate[] = ['Greenbow', 'Mobile'].flatMap((city) =>
      organizations.map((o) => ({
        method: 'PUT',
        path: `/organization/${o.id}/billingInfo`,
        headers: { authorization: o.authorization, 'content-type': 'application/json' },
        body: putBody(city),
      })),
    );
    const putBaseline: RequestTemplate[] = ['Greenbow', 'Mobile'].flatMap((city) =>
      organizations.map((o) => ({
        method: 'PUT',
        path: `/baseline/${o.id}`,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ first_name: city, city }),
      })),
    );

    await warmUp(app.baseUrl, getReal);
    await warmUp(baselineUrl, getBaseline);
    const figures: BenchFigure[] = [];
    figures.push(...(await compareUnderLoad('GET billingInfo', { url: app.baseUrl, requests: getReal }, { url: baselineUrl, requests: getBaseline })));
    await warmUp(app.baseUrl, putReal);
    await warmUp(baselineUrl, putBaseline);
    figures.push(...(await compareUnderLoad('PUT billingInfo', { url: app.baseUrl, requests: putReal }, { url: baselineUrl, requests: putBaseline })));
    return figures;
  } finally {
    await baseline.close();
    await pool.end();
    await app.close();
    await bench.drop();
  }
}

/** The seeded member of an organization as the caller of its profile read. */
function memberOf(organizationId: string): Caller {
  const actor = { type: 'user', userId: `user-${organizationId}`, activeOrganizationId: organizationId, sessionId: null, issuedAt: null } as const;
  return { actor, surface: 'baseline', requestId: null };
}

/** A filled profile and default address for every organization, inserted in bulk. */
async function seedProfiles(database: Database): Promise<void> {
  await database.query(
    `INSERT INTO billing_profiles (organization_id, contact_first_name, contact_last_name, email, updated_at)
     SELECT id, 'Forrest', 'Gump', 'forrest@gump.com', now() FROM organizations`,
  );
  await database.query(
    `INSERT INTO billing_addresses (id, organization_id, name, address_line1, city, postal_code, country, is_default, created_at, updated_at)
     SELECT 'billing_' || replace(id::text, '-', ''), id, 'Billing address', '21 Jenny Street', 'Greenbow', '36744', 'US', true, now(), now()
       FROM organizations`,
  );
}
