/** Billing runs as operators follow them: one by id, or all of them newest first, a page at a time. */
import type { AppContext } from '../../app-context.js';
import type { Caller } from '../../domain/actor.js';
import { pageOf, pageRequest, type Page } from '../../domain/pagination.js';
import { notFound } from '../../errors.js';
import { requireOperator } from '../organizations/organization-access.js';
import { findBillingRun, findBillingRuns, type BillingRun } from './billing-run.js';

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export async function getBillingRun(context: AppContext, caller: Caller, id: string): Promise<BillingRun> {
  requireOperator(caller, 'Billing runs');
  const run = uuidPattern.test(id) ? await findBillingRun(context.database, id) : null;
  if (run === null) throw notFound('Billing run');
  return run;
}

/** The cursor position of a run: its request instant and id. */
function positionOf(run: BillingRun): string {
  return `${run.requestedAt.toISOString()}|${run.id}`;
}

function parsePosition(position: string): { requestedAt: Date; id: string } | null {
  const [instant, id] = position.split('|');
  if (instant === undefined || id === undefined || !uuidPattern.test(id) || Number.isNaN(Date.parse(instant))) return null;
  return { requestedAt: new Date(instant), id };
}

export async function listBillingRuns(context: AppContext, caller: Caller, input: { limit?: number; cursor?: string }): Promise<Page<BillingRun>> {
  requireOperator(caller, 'Billing runs');
  const { limit, after } = pageRequest(input, (position) => parsePosition(position) !== null);
  const runs = await findBillingRuns(context.database, { before: after === null ? null : parsePosition(after), limit: limit + 1 });
  return pageOf(runs, limit, positionOf);
}
