/**
 * A bounded in-process map whose entries expire at a wall-clock instant: the caches of things the process checked
 * itself (verified tokens, recent failures, recent entries). Full, it forgets its oldest entry.
 */
export class ExpiringMap<Value> {
  private readonly entries = new Map<string, { value: Value; untilMs: number }>();

  constructor(private readonly limit: number) {}

  /** The value, while it has not expired (an expired entry is forgotten). */
  get(key: string, nowMs = Date.now()): Value | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.untilMs > nowMs) return entry.value;
    this.entries.delete(key);
    return undefined;
  }

  set(key: string, value: Value, untilMs: number): void {
    this.entries.delete(key); // set again: it becomes the newest
    if (this.entries.size >= this.limit) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    this.entries.set(key, { value, untilMs });
  }

  delete(key: string): void {
    this.entries.delete(key);
  }
}
