/** The one source of business time. Tests move it; nothing in the core calls `new Date()` for billing decisions. */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

/** A clock an operator (or a test) can set; it then advances with real time from the set point. */
export class SettableClock implements Clock {
  private offsetMs = 0;
  /** The version of the database's test clock setting this clock follows (0: none yet); see src/db/test-clock-setting.ts. */
  settingVersion = 0n;
  now(): Date {
    return new Date(Date.now() + this.offsetMs);
  }
  set(to: Date): void {
    this.offsetMs = to.getTime() - Date.now();
  }
}
