import type { WriteConditions } from '../services/preconditions.ts';
import type { HttpResult } from './responses.ts';

/**
 * ETag and If-Match, spelled once. An item's ETag is its stored `version` (bumped on every
 * write; live figures such as totalCost are computed on read and do not change it), as a
 * strong entity tag: `"7"`.
 */
export const etagOf = (version: number): string => `"${version}"`;

/** The same result, carrying the item's ETag. */
export const withETag = (result: HttpResult, version: number): HttpResult => ({ ...result, headers: { ...result.headers, etag: etagOf(version) } });

/**
 * If-Match as write conditions: `*` or no header is unconditional; otherwise the versions of
 * the listed entity tags (a weak `W/"7"` is read as 7 — these are version numbers). A tag that
 * names no version can never match, so the write is refused with a 412, as RFC 9110 says.
 */
export function writeConditions(headers: Record<string, string | undefined>): WriteConditions {
  const header = headers['if-match']?.trim();
  if (!header || header === '*') return {};
  const ifMatch = header
    .split(',')
    .map((tag) => /^\s*(?:W\/)?"(\d{1,15})"\s*$/.exec(tag)?.[1])
    .filter((version): version is string => version !== undefined)
    .map(Number);
  return { ifMatch };
}
