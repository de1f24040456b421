import { CliError } from '../errors.ts';
import { type OutputStream, writeLine } from '../io.ts';

interface Page {
  nextCursor?: string | null;
}

/** One page, or (with `all`) every page, following `nextCursor` until the server has no more. */
export async function collectPages<P extends Page>(
  fetchPage: (cursor: string | undefined) => Promise<P>,
  options: { all: boolean; cursor?: string },
): Promise<P[]> {
  const pages: P[] = [];
  const seen = new Set<string>();
  let cursor = options.cursor;
  for (;;) {
    const page = await fetchPage(cursor);
    pages.push(page);
    const next = page.nextCursor ?? undefined;
    if (!options.all || !next) return pages;
    if (seen.has(next)) throw new CliError(`The server returned the cursor '${next}' twice; stopping to avoid a loop.`);
    seen.add(next);
    cursor = next;
  }
}

export function moreHint(out: OutputStream, command: string, cursor: string): void {
  writeLine(out, '');
  writeLine(out, `More results: add --all, or continue with: ${command} --cursor ${cursor}`);
}
