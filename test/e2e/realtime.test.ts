import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient, REPO_ROOT, type RuntimeProcess, startRuntimeProcess, waitFor } from '../support/local-runtime.ts';
import { getTicket, openSocket, type Arrival, type TestSocket } from '../support/realtime-socket.ts';

const TICKET_SECONDS = 2;

/** The WebSocket of the local runtime, driven as a client would: tickets, channels, events as they happen. */
describe('real time on the local runtime', () => {
  let runtime: RuntimeProcess;
  let alice: ReturnType<typeof apiClient>;
  let bob: ReturnType<typeof apiClient>;
  let aliceClientId: string;
  let aliceKey: string;
  const sockets: TestSocket[] = [];

  const connect = async (api: ReturnType<typeof apiClient>) => {
    const socket = await openSocket((await getTicket(api)).url);
    sockets.push(socket);
    return socket;
  };
  const eventsOf = (arrivals: Arrival[], instanceId: string, channel?: string) =>
    arrivals.filter((a) => a.message.type === 'event' && a.message.event.instanceId === instanceId && (!channel || a.message.channel === channel));

  beforeAll(async () => {
    runtime = await startRuntimeProcess({ env: { HANGAR_WORKFLOW_WAIT_MS: '100', HANGAR_REALTIME_TICKET_SECONDS: String(TICKET_SECONDS) } });
    const admin = apiClient(runtime.url, runtime.adminKey);
    const keyFor = async (name: string) => {
      const client = await admin('POST', '/api/clients', { name });
      const issued = await admin('POST', `/api/clients/${client.body.client.id}/api-keys`, { name: 'ops', role: 'operator' });
      return { clientId: client.body.client.id as string, key: issued.body.apiKey.key as string };
    };
    const a = await keyFor('Realtime Alice');
    aliceKey = a.key;
    const b = await keyFor('Realtime Bob');
    aliceClientId = a.clientId;
    alice = apiClient(runtime.url, a.key);
    bob = apiClient(runtime.url, b.key);
  });

  afterAll(async () => {
    await Promise.all(sockets.map((s) => s.close()));
    await runtime?.stop();
  });

  it('issues a single-use ticket for the socket on the same port', async () => {
    const ticket = await getTicket(alice);
    const url = new URL(ticket.url);
    expect(url.protocol).toBe('ws:');
    expect(url.host).toBe(new URL(runtime.url).host);
    expect(url.pathname).toBe('/ws');
    expect(url.searchParams.get('ticket')).toBe(ticket.value);
    expect(Date.parse(ticket.expiresAt) - Date.now()).toBeLessThanOrEqual(TICKET_SECONDS * 1000);
    const unauthenticated = await apiClient(runtime.url)('POST', '/api/realtime/tickets');
    expect(unauthenticated.status).toBe(401);
  });

  it('streams every status of a LOCAL instance, PENDING to READY to TERMINATED, in order and within a second', async () => {
    const socket = await connect(alice);
    const created = await alice('POST', '/api/instances', { name: 'realtime-walk' });
    expect(created.status).toBe(202);
    const id = created.body.instance.id as string;
    await socket.until('READY', (all) => eventsOf(all, id).some((a) => a.message.event.toStatus === 'READY'));
    const terminated = await alice('DELETE', `/api/instances/${id}`);
    expect(terminated.status).toBe(202);
    await socket.until('TERMINATED', (all) => eventsOf(all, id).some((a) => a.message.event.toStatus === 'TERMINATED'));
    // Let anything written after TERMINATED arrive too, then compare with the event log.
    await new Promise((r) => setTimeout(r, 500));

    const received = eventsOf(socket.arrivals, id, `client.${aliceClientId}`);
    const log = await alice('GET', `/api/instances/${id}/events?limit=200`);
    const written = (log.body.events as { eventId: string }[]).map((e) => e.eventId);
    // Every event written, once, in the order written.
    expect(received.map((a) => a.message.event.id)).toEqual(written);

    const statuses = received.map((a) => a.message.event.toStatus).filter(Boolean);
    const firstOf = (status: string) => statuses.indexOf(status);
    expect(statuses[0]).toBe('PENDING');
    const steps: [string, string][] = [['PENDING', 'PROVISIONING'], ['PROVISIONING', 'READY'], ['READY', 'TERMINATING'], ['TERMINATING', 'TERMINATED']];
    for (const [before, after] of steps) {
      expect(firstOf(before), `${before} before ${after} in ${statuses.join(' ')}`).toBeGreaterThanOrEqual(0);
      expect(firstOf(before)).toBeLessThan(firstOf(after));
    }
    for (const arrival of received) {
      const delay = arrival.at - Date.parse(arrival.message.event.at);
      expect(delay, `${arrival.message.event.type} arrived ${delay} ms after it was written`).toBeLessThan(1000);
    }

    const last = received.at(-1)!.message;
    expect(last).toMatchObject({ type: 'event', channel: `client.${aliceClientId}`, event: { instanceId: id, clientId: aliceClientId } });
    expect(Object.keys(last.event).sort()).toEqual(['actor', 'at', 'clientId', 'fromStatus', 'id', 'instanceId', 'message', 'toStatus', 'type']);
    const read = await alice('GET', `/api/instances/${id}`);
    expect(Object.keys(last.instance).sort()).toEqual(Object.keys(read.body.instance).sort());
    expect(last.instance).toMatchObject({ id, status: 'TERMINATED', clientId: aliceClientId });
  });

  it('refuses a used, an expired, a missing or an unknown ticket at the handshake with 401', async () => {
    const ticket = await getTicket(alice);
    const first = await openSocket(ticket.url);
    sockets.push(first);
    await expect(openSocket(ticket.url)).rejects.toMatchObject({ statusCode: 401 });

    const expiring = await getTicket(alice);
    await new Promise((r) => setTimeout(r, TICKET_SECONDS * 1000 + 300));
    await expect(openSocket(expiring.url)).rejects.toMatchObject({ statusCode: 401 });

    const base = new URL(ticket.url);
    base.search = '';
    await expect(openSocket(base.toString())).rejects.toMatchObject({ statusCode: 401 });
    base.searchParams.set('ticket', 'hwt_never-issued');
    await expect(openSocket(base.toString())).rejects.toMatchObject({ statusCode: 401 });
  });

  it("answers NOT_FOUND for another client's instance and channel, and never lets their events through", async () => {
    const socket = await connect(alice);
    const theirs = await bob('POST', '/api/instances', { name: 'realtime-bob' });
    const bobsId = theirs.body.instance.id as string;
    const bobsClientId = theirs.body.instance.clientId as string;

    expect(await socket.ask({ action: 'subscribe', channel: `instance.${bobsId}` })).toMatchObject({ type: 'error', code: 'NOT_FOUND' });
    expect(await socket.ask({ action: 'subscribe', channel: `client.${bobsClientId}` })).toMatchObject({ type: 'error', code: 'NOT_FOUND' });
    expect(await socket.ask({ action: 'subscribe', channel: 'everything' })).toMatchObject({ type: 'error', code: 'BAD_REQUEST' });
    expect(await socket.ask({ action: 'dance' })).toMatchObject({ type: 'error', code: 'BAD_REQUEST' });

    // Bob's own socket hears Bob's instance; Alice's hears nothing of it.
    const bobs = await connect(bob);
    await waitFor('bob instance READY', async () => ((await bob('GET', `/api/instances/${bobsId}`)).body.instance.status === 'READY' ? true : undefined));
    await bob('DELETE', `/api/instances/${bobsId}`);
    await bobs.until("Bob's TERMINATED", (all) => eventsOf(all, bobsId).some((a) => a.message.event.toStatus === 'TERMINATED'));
    await new Promise((r) => setTimeout(r, 300));
    expect(socket.arrivals.filter((a) => a.message.type === 'event' && a.message.event.clientId !== aliceClientId)).toEqual([]);
  });

  it('subscribes to one instance, unsubscribes, and answers ping with pong', async () => {
    const socket = await connect(alice);
    expect(await socket.ask({ action: 'ping' })).toEqual({ type: 'pong' });
    // Listen to one instance only.
    expect(await socket.ask({ action: 'unsubscribe', channel: `client.${aliceClientId}` })).toEqual({ type: 'unsubscribed', channel: `client.${aliceClientId}` });
    const created = await alice('POST', '/api/instances', { name: 'realtime-one' });
    const id = created.body.instance.id as string;
    expect(await socket.ask({ action: 'subscribe', channel: `instance.${id}` })).toEqual({ type: 'subscribed', channel: `instance.${id}` });
    await socket.until('READY on the instance channel', (all) => eventsOf(all, id, `instance.${id}`).some((a) => a.message.event.toStatus === 'READY'));
    expect(socket.arrivals.filter((a) => a.message.type === 'event' && a.message.channel !== `instance.${id}`)).toEqual([]);
    expect(await socket.ask({ action: 'unsubscribe', channel: `instance.${id}` })).toEqual({ type: 'unsubscribed', channel: `instance.${id}` });
    await alice('DELETE', `/api/instances/${id}`);
    await new Promise((r) => setTimeout(r, 800));
    expect(eventsOf(socket.arrivals, id).some((a) => a.message.event.toStatus === 'TERMINATED')).toBe(false);
  });

  it('hangar watch <id> follows an instance over the WebSocket until TERMINATED', async () => {
    const created = await alice('POST', '/api/instances', { name: 'realtime-cli' });
    const id = created.body.instance.id as string;
    const child = spawn(process.execPath, ['cli/bin.js', '--url', runtime.url, '--api-key', aliceKey, '--json', 'watch', id], { cwd: REPO_ROOT, env: process.env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const lines = () => stdout.split('\n').filter(Boolean).map((line) => JSON.parse(line));
    await waitFor('watch to print READY', async () => (lines().some((l) => l.event?.toStatus === 'READY' || l.instance?.status === 'READY') ? true : undefined));
    await alice('DELETE', `/api/instances/${id}`);
    expect(await exited, stderr).toBe(0);
    const events = lines().filter((l) => l.type === 'event');
    // Over the socket (events, not polled instances), each once, ending at TERMINATED.
    expect(events.length).toBeGreaterThan(0);
    expect(new Set(events.map((l) => l.event.id)).size).toBe(events.length);
    expect(events.every((l) => l.event.instanceId === id)).toBe(true);
    expect(events.at(-1).event.toStatus).toBe('TERMINATED');
    expect(stderr).not.toContain('polling');
  });
});
