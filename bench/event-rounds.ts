/** What the event-delay benches share: writing events one at a time, and reading back when each was written. */
export type ApiCall = (key: string, method: string, path: string, body?: unknown) => Promise<any>;

/** A JSON call to the runtime at `url` with a key; a non-2xx answer throws with its body. */
export function apiCaller(url: string): ApiCall {
  return async (key, method, path, body) => {
    const response = await fetch(`${url}${path}`, {
      method,
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = (await response.json()) as Record<string, any>;
    if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${JSON.stringify(json)}`);
    return json;
  };
}

/**
 * Writes `count` instance.updated events (a tag change each), one at a time: each waits until
 * the previous one has arrived (`arrived()` grows) or 5 s have passed, so delays never queue.
 */
export async function writeUpdatesOneByOne(call: ApiCall, key: string, instanceId: string, count: number, arrived: () => number): Promise<void> {
  for (let i = 0; i < count; i++) {
    const before = arrived();
    await call(key, 'PATCH', `/api/instances/${instanceId}`, { tags: { round: String(i) } });
    for (let waited = 0; arrived() === before && waited < 5000; waited += 2) await new Promise((r) => setTimeout(r, 2));
  }
}

/** The instance's event log, oldest first, every page: each event's id, type and write time. */
export async function eventLog(call: ApiCall, key: string, instanceId: string): Promise<{ eventId: string; type: string; at: string }[]> {
  const events: { eventId: string; type: string; at: string }[] = [];
  let cursor: string | null = null;
  do {
    const page = await call(key, 'GET', `/api/instances/${instanceId}/events?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    events.push(...page.events);
    cursor = page.nextCursor;
  } while (cursor);
  return events;
}
