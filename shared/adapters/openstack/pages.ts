import { ProviderError } from '../../domain/errors.ts';
import { isRecord } from './http.ts';
import { serviceLabel, type KeystoneSession, type ServiceRequest, type ServiceType } from './keystone.ts';

/**
 * Marker pagination as the three services do it:
 *   Nova     {"servers": […], "servers_links": [{"rel": "next", "href": "http://…/v2.1/servers/detail?marker=…"}]}
 *   Neutron  {"networks": […], "networks_links": [{"rel": "next", "href": "http://…/v2.0/networks?marker=…"}]}
 *   Glance   {"images": […], "next": "/v2/images?marker=…"} (relative to the Glance root)
 * A link is followed until a page has none.
 */

/** A runaway server (a next link that never ends) stops here rather than looping forever. */
const MAX_PAGES = 1000;

export async function collectPages<T>(
  session: KeystoneSession,
  service: ServiceType,
  first: ServiceRequest,
  collection: string,
): Promise<T[]> {
  const items: T[] = [];
  const seen = new Set<string>();
  let request: ServiceRequest = first;
  for (let page = 0; page < MAX_PAGES; page += 1) {
    const { json } = await session.request(service, request);
    const body = isRecord(json) ? json : {};
    const pageItems = body[collection];
    if (!Array.isArray(pageItems)) {
      throw new ProviderError(`${serviceLabel(service)} answered without a '${collection}' list`, 'transient');
    }
    items.push(...(pageItems as T[]));
    const href = nextHref(body, collection);
    if (!href || pageItems.length === 0) return items;
    const url = resolveNext(href, await session.endpoint(service));
    if (seen.has(url)) return items;
    seen.add(url);
    request = { method: 'GET', url, ...(first.headers ? { headers: first.headers } : {}) };
  }
  throw new ProviderError(`${serviceLabel(service)} kept paging '${collection}' past ${MAX_PAGES} pages`, 'fatal');
}

function nextHref(body: Record<string, unknown>, collection: string): string | undefined {
  if (typeof body.next === 'string' && body.next) return body.next;
  const links = body[`${collection}_links`];
  if (!Array.isArray(links)) return undefined;
  const next = links.find((link) => isRecord(link) && link.rel === 'next');
  return isRecord(next) && typeof next.href === 'string' ? next.href : undefined;
}

/**
 * A next link against the endpoint we reached the service through. Nova and Neutron build
 * absolute links from their own configured host, which behind a TLS proxy is often http:// or an
 * internal name; the scheme and host of our endpoint replace theirs. Glance's links are paths
 * below its root.
 */
export function resolveNext(href: string, root: string): string {
  const base = new URL(root);
  if (/^https?:\/\//i.test(href)) {
    const next = new URL(href);
    next.protocol = base.protocol;
    next.host = base.host;
    return next.toString();
  }
  return `${root.replace(/\/+$/, '')}${href.startsWith('/') ? '' : '/'}${href}`;
}
