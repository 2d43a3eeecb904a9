/**
 * The test clock: operators (scenario tests, demos) move the business time when BURSAR_TEST_CLOCK=1. The setting is
 * kept in the database (`test_clock`), so every process sharing it follows the move (each reads it before a request
 * and before polling for jobs) and a restart keeps it. Scheduled work follows it: a move queues the recurring jobs'
 * next occurrences and wakes the worker, which runs whatever the new time made due (a month closed, a retry date).
 */
import type { AppContext } from '../../app-context.js';
import { recordAuditEvent } from '../../audit/record-audit-event.js';
import { SettableClock } from '../../clock.js';
import { writeTestClockSetting } from '../../db/test-clock-setting.js';
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

/** Sets the business time (it then runs on from there) for every process, audited without an organization. */
export async function setTestClock(context: AppContext, caller: Caller, to: Date): Promise<Date> {
  requireOperator(caller);
  if (Number.isNaN(to.getTime())) throw invalidInput([{ field: 'now', reason: 'format', message: 'must be a date-time' }]);
  const clock = settableClock(context);
  const before = clock.now();
  const version = await context.database.transaction(async (tx) => {
    await recordAuditEvent(tx, caller, to, { organizationId: null, type: TEST_CLOCK_SET, changes: { now: { old: before, new: to } } });
    const { rows } = await tx.query<{ version: bigint }>(writeTestClockSetting(to));
    return rows[0]!.version;
  });
  // Moved only once the setting and its audit event are stored: never a move without its record.
  clock.set(to);
  clock.settingVersion = version;
  // Scheduled work follows the clock: the occurrences due next from the new time (the clock may have gone back).
  await context.jobs.scheduleRecurring().catch((error: unknown) => {
    context.logger.warn({ err: error }, 'could not schedule the recurring jobs at the new time; a worker start tries again');
  });
  context.jobs.nudge();
  return clock.now();
}
