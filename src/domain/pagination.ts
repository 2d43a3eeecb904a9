import { invalidInput, type FieldError } from '../errors.js';

/**
 * Pages of the operator lists: a page size, and an opaque cursor that carries the sort key of the last row shown
 * (keyset pagination: a page never repeats or skips rows when rows are added between two requests).
 */
export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 200;

export interface Page<T> {
  items: T[];
  /** Pass it back as `cursor` for the next page; null on the last page. */
  nextCursor: string | null;
}

/** The page size asked for (default 50), or null when it is not a whole number from 1 to 200. */
export function pageSize(limit: number | undefined): number | null {
  if (limit === undefined) return DEFAULT_PAGE_SIZE;
  return Number.isInteger(limit) && limit >= 1 && limit <= MAX_PAGE_SIZE ? limit : null;
}

const CURSOR_PREFIX = 'after:';

export function encodeCursor(position: string): string {
  return Buffer.from(`${CURSOR_PREFIX}${position}`, 'utf8').toString('base64url');
}

/** The position a cursor carries, or null when the text is not a cursor this module wrote. */
export function decodeCursor(cursor: string): string | null {
  if (!/^[A-Za-z0-9_-]+$/.test(cursor)) return null;
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!text.startsWith(CURSOR_PREFIX) || text.length === CURSOR_PREFIX.length) return null;
  return text.slice(CURSOR_PREFIX.length);
}

/** A page from `limit + 1` rows read in order: the extra row only tells that another page follows. */
export function pageOf<T>(rows: readonly T[], limit: number, positionOf: (row: T) => string): Page<T> {
  const items = rows.slice(0, limit);
  const last = items[items.length - 1];
  return { items, nextCursor: rows.length > limit && last !== undefined ? encodeCursor(positionOf(last)) : null };
}

export interface PageRequest {
  limit: number;
  /** The sort key of the last row of the previous page; null for the first page. */
  after: string | null;
}

/**
 * The page a request asks for; 422 naming `limit` or `cursor` when they are not valid. `isPosition` tells a sort
 * key of this list (a cursor of another list, or made up, is refused rather than read).
 */
export function pageRequest(input: { limit?: number; cursor?: string }, isPosition: (position: string) => boolean): PageRequest {
  const errors: FieldError[] = [];
  const limit = pageSize(input.limit);
  if (limit === null) errors.push({ field: 'limit', reason: 'range', message: `must be a whole number from 1 to ${MAX_PAGE_SIZE}` });
  const after = input.cursor === undefined ? null : decodeCursor(input.cursor);
  if (input.cursor !== undefined && (after === null || !isPosition(after))) {
    errors.push({ field: 'cursor', reason: 'format', message: 'is not a cursor of this list (pass next_cursor back as it is)' });
  }
  if (errors.length > 0) throw invalidInput(errors);
  return { limit: limit ?? DEFAULT_PAGE_SIZE, after };
}
