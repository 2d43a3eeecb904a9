import type { AppContext } from '../../app-context.js';
import type { Caller } from '../../domain/actor.js';
import { pageOf, pageRequest, type Page } from '../../domain/pagination.js';
import { requireOperator } from './organization-access.js';
import { searchOrganizations, type Organization } from './organization.js';

const MAX_QUERY_LENGTH = 100;

/** Every organization (operators), by slug, a page at a time; `query` keeps those whose name or slug contains it. */
export async function listOrganizations(
  context: AppContext,
  caller: Caller,
  input: { query?: string; limit?: number; cursor?: string },
): Promise<Page<Organization>> {
  requireOperator(caller, 'Organization lists');
  const { limit, after } = pageRequest(input, (slug) => slug.length > 0 && slug.length <= 64);
  const query = input.query?.trim().slice(0, MAX_QUERY_LENGTH) || null;
  const rows = await searchOrganizations(context.database, { query, afterSlug: after, limit: limit + 1 });
  return pageOf(rows, limit, (organization) => organization.slug);
}
