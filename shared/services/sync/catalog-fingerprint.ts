import { createHash } from 'node:crypto';
import { canonicalJson } from '../../domain/canonical-json.ts';
import type { CatalogItem } from '../../ports/compute-provider.ts';

/** Stable across runs for the same content, whatever order the provider lists attributes in. */
export function fingerprintOf(item: Pick<CatalogItem, 'name' | 'hourlyMicros' | 'attributes'>): string {
  const canonical = canonicalJson({ n: item.name, p: item.hourlyMicros ?? null, a: item.attributes });
  return createHash('sha256').update(canonical).digest('base64url').slice(0, 22);
}
