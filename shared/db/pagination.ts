import { invalidCursorError } from '../domain/errors.ts';
import type { Page } from '../ports/page.ts';

/**
 * Run one page of a query; a cursor this list did not hand out (garbage, edited, or pointing
 * into another partition) is the caller's mistake, a 400, never a 500.
 */
export async function paged<T>(run: () => Promise<{ data: unknown[]; cursor: string | null }>): Promise<Page<T>> {
  try {
    const { data, cursor } = await run();
    return { items: data as T[], cursor };
  } catch (error) {
    if (isBadCursor(error)) {
      throw invalidCursorError();
    }
    throw error;
  }
}

/** DynamoDB refuses a foreign start key; ElectroDB refuses one it cannot parse. Both may be wrapped. */
function isBadCursor(error: unknown): boolean {
  const texts: string[] = [];
  for (let e = error as { message?: string; cause?: unknown } | undefined, depth = 0; e && depth < 4; e = e.cause as typeof e, depth++) {
    texts.push(e.message ?? '');
  }
  return texts.some((text) =>
    /starting key is invalid|ExclusiveStartKey|does not match the (range|hash) key|parse cursor|invalid cursor|cursor/i.test(text),
  );
}

/**
 * ElectroDB options for one page of `page.limit` items. `limit` is what sends DynamoDB its
 * `Limit`; `count` alone reads a whole 1 MB page and slices it. Both together read at most
 * `limit` items per request and, with a filter, keep reading until the page is full or the
 * data ends, the cursor pointing just after the last item returned.
 */
export const pageOptions = (page: { limit: number; cursor?: string | null }) => ({
  count: page.limit,
  limit: page.limit,
  cursor: page.cursor ?? null,
});
