/**
 * PostgreSQL cannot store a NUL character in `text` nor an unpaired UTF-16 surrogate in `text` or `jsonb`; such a
 * string would fail deep inside a use case as a 500. Every request is checked here once, after its schema and before
 * its handler: any string in the path, the query or the body (object keys included) that holds one is refused as a
 * validation error naming the field, which each surface renders in its own style. Headers need no check: Node refuses
 * a NUL in a header and reads header bytes as Latin-1, and the one decoded header value that is stored, a JWT's
 * claims, is checked by the authenticator with `isStorableText`.
 */
import type { FastifyRequest } from 'fastify';

/** A NUL, a high surrogate not followed by a low one, or a low surrogate not preceded by a high one. */
const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const UNSTORABLE_ALL = new RegExp(UNSTORABLE.source, 'g');

export const UNSTORABLE_TEXT_KEYWORD = 'characters';

export function isStorableText(value: string): boolean {
  return !UNSTORABLE.test(value);
}

function problemWith(value: string): string {
  return value.includes('\u0000')
    ? 'must not contain a NUL character (U+0000)'
    : 'must be valid Unicode text: it contains an unpaired UTF-16 surrogate';
}

interface StringIssue {
  instancePath: string;
  keyword: string;
  message: string;
}

const pointerToken = (key: string) => key.replace(/~/g, '~0').replace(/\//g, '~1');

/**
 * Whether any string or key of the value is unstorable: the check every request pays, so it builds no paths (a
 * batch of 100 usage events has some 800 strings and keys); `findUnstorableStrings` names them once one is found.
 */
function hasUnstorableString(root: unknown): boolean {
  const pending: unknown[] = [root];
  while (pending.length > 0) {
    const value = pending.pop();
    if (typeof value === 'string') {
      if (!isStorableText(value)) return true;
    } else if (Array.isArray(value)) {
      for (const item of value) pending.push(item);
    } else if (typeof value === 'object' && value !== null) {
      for (const key in value) {
        if (!Object.hasOwn(value, key)) continue;
        if (!isStorableText(key)) return true;
        pending.push((value as Record<string, unknown>)[key]);
      }
    }
  }
  return false;
}

/** Issues in Ajv's shape (JSON Pointer paths), found without recursion: a body may nest deeper than the stack. */
function findUnstorableStrings(root: unknown): StringIssue[] {
  const issues: StringIssue[] = [];
  const pending: Array<{ value: unknown; path: string }> = [{ value: root, path: '' }];
  while (pending.length > 0) {
    const { value, path } = pending.pop()!;
    if (typeof value === 'string') {
      if (!isStorableText(value)) issues.push({ instancePath: path, keyword: UNSTORABLE_TEXT_KEYWORD, message: problemWith(value) });
    } else if (Array.isArray(value)) {
      for (let index = value.length - 1; index >= 0; index -= 1) pending.push({ value: value[index], path: `${path}/${index}` });
    } else if (typeof value === 'object' && value !== null) {
      const entries = Object.entries(value);
      for (let index = entries.length - 1; index >= 0; index -= 1) {
        const [key, item] = entries[index]!;
        if (!isStorableText(key)) {
          // Named with U+FFFD in place of each bad character, so that the error names it readably.
          const shownKey = pointerToken(key.replace(UNSTORABLE_ALL, '\ufffd'));
          issues.push({ instancePath: `${path}/${shownKey}`, keyword: UNSTORABLE_TEXT_KEYWORD, message: `is a field name that ${problemWith(key)}` });
        } else {
          pending.push({ value: item, path: `${path}/${pointerToken(key)}` });
        }
      }
    }
  }
  return issues;
}

/** Thrown like Fastify's own schema errors, so that every surface renders it as it renders those. */
class UnstorableStringError extends Error {
  readonly statusCode = 400;
  readonly code = 'FST_ERR_VALIDATION';

  constructor(
    readonly validation: StringIssue[],
    readonly validationContext: string,
  ) {
    super(`${validationContext} has a string PostgreSQL cannot store`);
  }
}

/** A `preHandler` hook for every route: the first part of the request (path, query, body) with issues is refused. */
export async function refuseUnstorableStrings(request: FastifyRequest): Promise<void> {
  const parts: Array<[string, unknown]> = [
    ['params', request.params],
    ['querystring', request.query],
    ['body', request.body],
  ];
  for (const [location, value] of parts) {
    if (hasUnstorableString(value)) throw new UnstorableStringError(findUnstorableStrings(value), location);
  }
}
