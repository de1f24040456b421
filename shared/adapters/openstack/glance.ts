import { ProviderError } from '../../domain/errors.ts';
import { isRecord } from './http.ts';
import type { KeystoneSession } from './keystone.ts';
import { sample } from './nova.ts';
import { collectPages } from './pages.ts';

/** Glance image API v2. Paths carry /v2 themselves (see serviceRoot in keystone.ts). */
export interface GlanceImage {
  id: string;
  name?: string | null;
  status: string;
  visibility?: string;
  disk_format?: string | null;
  container_format?: string | null;
  size?: number | null;
  min_disk?: number;
  min_ram?: number;
  os_distro?: string;
  os_version?: string;
  created_at?: string;
  updated_at?: string;
}

const PAGE_SIZE = 100;
const UUID = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;

/** Every image the project can see, following Glance's relative `next` links. */
export async function listImages(
  session: KeystoneSession,
  filters: { name?: string; status?: string } = {},
): Promise<GlanceImage[]> {
  return collectPages<GlanceImage>(
    session,
    'image',
    { method: 'GET', path: '/v2/images', query: { limit: PAGE_SIZE, ...filters } },
    'images',
  );
}

export async function getImage(session: KeystoneSession, id: string): Promise<GlanceImage | null> {
  const response = await session.requestOrNull('image', { method: 'GET', path: `/v2/images/${encodeURIComponent(id)}` });
  if (!response) return null;
  if (!isRecord(response.json) || typeof response.json.id !== 'string') {
    throw new ProviderError('OpenStack image (Glance) answered GET /v2/images/{id} without an image', 'transient');
  }
  return response.json as unknown as GlanceImage;
}

/**
 * An image named by id or by exact name. Only an active image can boot a server. Several active
 * images sharing the name are refused rather than guessed between.
 */
export async function resolveImage(session: KeystoneSession, nameOrId: string, region: string): Promise<GlanceImage> {
  if (UUID.test(nameOrId)) {
    const image = await getImage(session, nameOrId);
    if (image) return requireActive(image, nameOrId);
  }
  const named = await listImages(session, { name: nameOrId });
  const active = named.filter((image) => image.status === 'active');
  if (active.length === 1 && active[0]) return active[0];
  if (active.length > 1) {
    throw new ProviderError(
      `Image name '${nameOrId}' is ambiguous in OpenStack region ${region} (ids ${active.map((i) => i.id).join(', ')}); name it by id`,
      'invalid-request',
    );
  }
  if (named[0]) return requireActive(named[0], nameOrId);
  const available = await listImages(session, { status: 'active' });
  throw new ProviderError(
    `Image '${nameOrId}' does not exist in OpenStack region ${region}; available: ${sample(available.map((i) => i.name ?? i.id))}`,
    'invalid-request',
  );
}

function requireActive(image: GlanceImage, asked: string): GlanceImage {
  if (image.status === 'active') return image;
  throw new ProviderError(`Image '${asked}' (${image.id}) is ${image.status}, not active; it cannot boot a server`, 'invalid-request');
}
