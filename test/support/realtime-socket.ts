import WebSocket from 'ws';
import type { apiClient } from './local-runtime.ts';

/** A message from the socket with the moment it arrived. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Arrival = { at: number; message: any };

export interface TestSocket {
  ws: WebSocket;
  arrivals: Arrival[];
  /** Sends a message and resolves with the next answer that is not an event. */
  ask(message: unknown): Promise<Arrival['message']>;
  /** Resolves once `predicate` holds for the arrivals (or fails after `timeoutMs`). */
  until(what: string, predicate: (arrivals: Arrival[]) => boolean, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export async function getTicket(api: ReturnType<typeof apiClient>) {
  const { status, body } = await api('POST', '/api/realtime/tickets');
  if (status !== 201) throw new Error(`ticket: ${status} ${JSON.stringify(body)}`);
  return body.ticket as { value: string; expiresAt: string; url: string };
}

/** Opens `url`; rejects with the handshake's HTTP status when it is refused. */
export function openSocket(url: string): Promise<TestSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    const arrivals: Arrival[] = [];
    const waiters: ((a: Arrival) => void)[] = [];
    ws.on('message', (data) => {
      const arrival = { at: Date.now(), message: JSON.parse(data.toString()) };
      arrivals.push(arrival);
      if (arrival.message.type !== 'event') waiters.shift()?.(arrival);
    });
    ws.once('unexpected-response', (_req, res) => reject(Object.assign(new Error(`handshake refused: ${res.statusCode}`), { statusCode: res.statusCode })));
    ws.once('error', reject);
    ws.once('open', () =>
      resolve({
        ws,
        arrivals,
        ask: (message) =>
          new Promise((answer) => {
            waiters.push((a) => answer(a.message));
            ws.send(JSON.stringify(message));
          }),
        until: async (what, predicate, timeoutMs = 30_000) => {
          const deadline = Date.now() + timeoutMs;
          while (!predicate(arrivals)) {
            if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; got ${JSON.stringify(arrivals.map((a) => a.message.type === 'event' ? `${a.message.channel} ${a.message.event.type} ${a.message.event.toStatus}` : a.message))}`);
            await new Promise((r) => setTimeout(r, 20));
          }
        },
        close: () =>
          new Promise<void>((done) => {
            if (ws.readyState === WebSocket.CLOSED) return done();
            ws.once('close', () => done());
            ws.close();
          }),
      }),
    );
  });
}
