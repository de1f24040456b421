import { createHash } from 'node:crypto';
import type { CatalogItem } from '../ports/compute-provider.ts';

/** Stable across runs for the same content, whatever order the provider lists attributes in. */
export function fingerprintOf(item: Pick<CatalogItem, 'name' | 'hourlyMicros' | 'attributes'>): string {
  const canonical = JSON.stringify({ n: item.name, p: item.hourlyMicros ?? null, a: sortKeys(item.attributes) });
  return createHash('sha256').update(canonical).digest('base64url').slice(0, 22);
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>)
        .filter(([, v]) => v !== undefined)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([k, v]) => [k, sortKeys(v)]),
    );
  }
  return value;
}
