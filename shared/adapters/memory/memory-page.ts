import { invalidCursorError } from '../../domain/errors.ts';
import type { Page, PageRequest } from '../../ports/page.ts';

/**
 * One page of `items`, already in list order, keyed by `sortKey` (unique within the list). The
 * cursor names the list and the last key handed out, so a page stays stable while items come
 * and go, and a cursor from another list, or edited, is refused as DynamoDB refuses one.
 */
export function pageOf<T>(list: string, items: T[], sortKey: (item: T) => string, request: PageRequest, order: 'asc' | 'desc' = 'asc'): Page<T> {
  const after = request.cursor === undefined ? undefined : readCursor(list, request.cursor);
  const rest = after === undefined ? items : items.filter((item) => (order === 'asc' ? sortKey(item) > after : sortKey(item) < after));
  const page = rest.slice(0, Math.max(1, request.limit));
  const more = rest.length > page.length;
  return { items: page, cursor: more ? writeCursor(list, sortKey(page.at(-1)!)) : null };
}

/**
 * A list walked a page of `pageSize` at a time, as a background pass walks the table: each page
 * reads `items()` afresh after the last key handed out, so changes between pages show as they would.
 */
export async function* pagesOf<T>(list: string, items: () => Iterable<T>, sortKey: (item: T) => string, pageSize: number): AsyncIterable<T[]> {
  let cursor: string | undefined;
  do {
    const page = pageOf(list, sortedBy(items(), sortKey), sortKey, { limit: pageSize, ...(cursor ? { cursor } : {}) });
    if (page.items.length) yield page.items;
    cursor = page.cursor ?? undefined;
  } while (cursor);
}

/** Sort by a key in byte order, as DynamoDB sorts string keys. */
export function sortedBy<T>(items: Iterable<T>, sortKey: (item: T) => string, order: 'asc' | 'desc' = 'asc'): T[] {
  const sign = order === 'asc' ? 1 : -1;
  return [...items].sort((a, b) => {
    const x = sortKey(a);
    const y = sortKey(b);
    return x < y ? -sign : x > y ? sign : 0;
  });
}

const writeCursor = (list: string, key: string) => Buffer.from(JSON.stringify({ l: list, k: key })).toString('base64url');

function readCursor(list: string, cursor: string): string {
  try {
    const parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { l?: unknown; k?: unknown };
    if (parsed.l === list && typeof parsed.k === 'string') return parsed.k;
  } catch {
    // falls through to the refusal
  }
  throw invalidCursorError();
}

/** Stored and returned values are copies, so no caller can change what another reads. */
export const copy = <T>(value: T): T => structuredClone(value);
