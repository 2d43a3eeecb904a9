/**
 * The test clock: operators (scenario tests, demos) move the business time of this process when
 * BURSAR_TEST_CLOCK=1. It is process-local: in a deployment of several processes each has its own clock.
 */
import type { AppContext } from '../../app-context.js';
import { recordAuditEvent } from '../../audit/record-audit-event.js';
import { SettableClock } from '../../clock.js';
import { BillingError, invalidInput } from '../../errors.js';
import type { Caller } from '../../domain/actor.js';
import { requireOperator } from '../organizations/organization-access.js';

export const TEST_CLOCK_SET = 'TEST_CLOCK_SET';

function settableClock(context: AppContext): SettableClock {
  // Refused like an unknown route: production processes have no settable time.
  if (!context.config.testClockEnabled) {
    throw new BillingError('test_clock_disabled', 404, 'There is no test clock: start Bursar with BURSAR_TEST_CLOCK=1 to set the time');
  }
  if (!(context.clock instanceof SettableClock)) {
    throw new BillingError('test_clock_unavailable', 409, 'This process was started with a clock that cannot be set');
  }
  return context.clock;
}

export function readTestClock(context: AppContext, caller: Caller): Date {
  requireOperator(caller);
  return settableClock(context).now();
}

/** Sets the business time (it then runs on from there), audited without an organization. */
export async function setTestClock(context: AppContext, caller: Caller, to: Date): Promise<Date> {
  requireOperator(caller);
  if (Number.isNaN(to.getTime())) throw invalidInput([{ field: 'now', reason: 'format', message: 'must be a date-time' }]);
  const clock = settableClock(context);
  const before = clock.now();
  await context.database.transaction(async (tx) => {
    await recordAuditEvent(tx, caller, to, { organizationId: null, type: TEST_CLOCK_SET, changes: { now: { old: before, new: to } } });
  });
  // Moved only once the audit event is stored: never a move without its record.
  clock.set(to);
  return clock.now();
}
