/** Small shapes shared by the table modules and snapshots. */

/** A row of a LEFT JOIN that may have found nothing: every column may be null. */
export type Nullable<T> = { [K in keyof T]: T[K] | null };

/** The value as entered when it holds more than white space, else null (what the payment provider receives). */
export function present(value: string | null): string | null {
  return value !== null && value.trim() !== '' ? value : null;
}

/** `present`, without the surrounding white space (what an invoice prints). */
export function presentTrimmed(value: string | null): string | null {
  return present(value)?.trim() ?? null;
}
