// Hash routing: `#/instances?status=READY&sort=name`. Filters, sort and page live in the URL.
import { useEffect, useState } from 'preact/hooks';

export function currentRoute() {
  const raw = location.hash.replace(/^#/, '') || '/instances';
  const [path, search = ''] = raw.split('?');
  return { path: path || '/instances', segments: path.split('/').filter(Boolean).map(decodeURIComponent), query: new URLSearchParams(search) };
}

export function hrefTo(path, params = {}) {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) if (value !== undefined && value !== null && value !== '') search.set(name, String(value));
  const query = search.toString();
  return `#${path}${query ? `?${query}` : ''}`;
}

export function navigate(path, params = {}, { replace = false } = {}) {
  const href = hrefTo(path, params);
  if (replace) history.replaceState(null, '', href);
  else history.pushState(null, '', href);
  dispatchEvent(new HashChangeEvent('hashchange'));
}

export function useRoute() {
  const [route, setRoute] = useState(currentRoute);
  useEffect(() => {
    const update = () => setRoute(currentRoute());
    addEventListener('hashchange', update);
    addEventListener('popstate', update);
    return () => {
      removeEventListener('hashchange', update);
      removeEventListener('popstate', update);
    };
  }, []);
  return route;
}
