import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface IssuedToken {
  /** Which credential asked: 'password' or 'application_credential'. */
  method: string;
  status: number;
  token?: string;
  at: number;
  /** Revoked at Keystone before the caller got it (see revokeNext). */
  revoked?: boolean;
  /** Why revoking it failed, if it did. */
  revokeError?: string;
}

export interface KeystoneProxy {
  url: string;
  issued: IssuedToken[];
  /**
   * The next token issued for `method` is revoked at Keystone before it is handed over: a
   * token that is dead on arrival, which every service refuses (none has it cached yet).
   */
  revokeNext(method: string, revoke: (token: string) => Promise<void>): void;
  /**
   * Tokens issued from now on announce `expires_at` this far ahead (Keystone's own is an hour
   * away): a short-lived token as the client sees it, so it has to renew it in time.
   */
  announceLifetime(ms: number): void;
  close(): Promise<void>;
}

/**
 * A pass-through proxy in front of the real Keystone that notes every token it issues, so a
 * test can revoke exactly the token the runtime holds and see it fetch another, and can make
 * tokens look short-lived. Only Keystone goes through it: the catalog Keystone returns still
 * points at the real Nova, Glance and Neutron.
 */
export async function startKeystoneProxy(target: string): Promise<KeystoneProxy> {
  const issued: IssuedToken[] = [];
  let armed: { method: string; revoke: (token: string) => Promise<void> } | undefined;
  let lifetimeMs: number | undefined;
  const server = createServer((req, res) => {
    void (async () => {
      const body = await readBody(req);
      const headers = new Headers();
      for (const [name, value] of Object.entries(req.headers)) {
        if (value !== undefined && !['host', 'connection', 'content-length'].includes(name)) headers.set(name, String(value));
      }
      headers.set('connection', 'close');
      const answer = await fetch(`${target}${req.url ?? '/'}`, {
        method: req.method ?? 'GET',
        headers,
        ...(body.length ? { body } : {}),
      });
      let text = Buffer.from(await answer.arrayBuffer());
      if (req.method === 'POST' && /\/auth\/tokens$/.test(req.url ?? '')) {
        if (lifetimeMs !== undefined && answer.status === 201) {
          const json = JSON.parse(text.toString()) as { token: { expires_at: string } };
          // Keystone's format: microseconds, Z.
          json.token.expires_at = new Date(Date.now() + lifetimeMs).toISOString().replace('Z', '000Z');
          text = Buffer.from(JSON.stringify(json));
        }
        const methods = (JSON.parse(body.toString() || '{}') as { auth?: { identity?: { methods?: string[] } } }).auth?.identity?.methods;
        const token = answer.headers.get('x-subject-token');
        const method = methods?.[0] ?? '?';
        const record: IssuedToken = { method, status: answer.status, ...(token ? { token } : {}), at: Date.now() };
        if (token && answer.status === 201 && armed?.method === method) {
          const { revoke } = armed;
          armed = undefined;
          try {
            await revoke(token);
            record.revoked = true;
          } catch (error) {
            record.revokeError = String(error);
          }
        }
        issued.push(record);
      }
      const out: Record<string, string> = {};
      answer.headers.forEach((value, name) => {
        if (!['connection', 'content-length', 'transfer-encoding', 'content-encoding'].includes(name)) out[name] = value;
      });
      res.writeHead(answer.status, { ...out, 'content-length': String(text.length) });
      res.end(text);
    })().catch((error: unknown) => {
      res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(`proxy: ${String(error)}`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    issued,
    revokeNext: (method, revoke) => {
      armed = { method, revoke };
    },
    announceLifetime: (ms) => {
      lifetimeMs = ms;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}
