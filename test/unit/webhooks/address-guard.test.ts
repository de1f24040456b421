import { describe, expect, it } from 'vitest';
import { embeddedIpv4, forbiddenReason } from '../../../shared/adapters/webhooks/address-guard.ts';
import { HttpWebhookTransport } from '../../../shared/adapters/webhooks/http-transport.ts';
import { ValidationError } from '../../../shared/domain/errors.ts';

const deployed = { allowLoopback: false };
const local = { allowLoopback: true };

describe('the SSRF guard: which addresses a webhook may target', () => {
  it.each([
    '127.0.0.1',
    '127.255.255.254',
    '10.0.0.1',
    '10.255.255.255',
    '172.16.0.1',
    '172.31.255.255',
    '192.168.1.1',
    '169.254.169.254', // the instance metadata service
    '100.64.0.1',
    '0.0.0.0',
    '224.0.0.1',
    '255.255.255.255',
    '198.18.0.1',
    '::1',
    '::',
    'fe80::1',
    'fe80::1%eth0',
    'fc00::1',
    'fd12:3456:789a::1',
    'ff02::1',
    '::ffff:127.0.0.1',
    '::ffff:10.0.0.1',
    '::ffff:a9fe:a9fe', // 169.254.169.254, in hex
    '::ffff:c0a8:101', // 192.168.1.1
    '64:ff9b::a00:1', // NAT64 of 10.0.0.1
    '2002:c0a8:101::1', // 6to4 of 192.168.1.1
    '::127.0.0.1',
    '[::1]',
  ])('refuses %s on deployed stages', (address) => {
    expect(forbiddenReason(address, deployed)).toMatch(/loopback|private|reserved/);
  });

  it.each(['93.184.216.34', '8.8.8.8', '1.1.1.1', '172.32.0.1', '192.169.0.1', '100.128.0.1', '2606:4700:4700::1111', '2a00:1450:4001:80b::200e', '::ffff:8.8.8.8', '64:ff9b::808:808'])(
    'allows the public address %s',
    (address) => {
      expect(forbiddenReason(address, deployed)).toBeUndefined();
    },
  );

  it('allows loopback, and only loopback, in the local runtime', () => {
    for (const address of ['127.0.0.1', '127.1.2.3', '::1', '::ffff:127.0.0.1']) expect(forbiddenReason(address, local)).toBeUndefined();
    for (const address of ['10.0.0.1', '169.254.169.254', '192.168.0.1', 'fe80::1', 'fd00::1']) expect(forbiddenReason(address, local)).toBeDefined();
  });

  it('reads the IPv4 address inside IPv6 forms', () => {
    expect(embeddedIpv4('::ffff:10.1.2.3')).toBe('10.1.2.3');
    expect(embeddedIpv4('::ffff:a01:203')).toBe('10.1.2.3');
    expect(embeddedIpv4('64:ff9b::a01:203')).toBe('10.1.2.3');
    expect(embeddedIpv4('2002:a01:203::')).toBe('10.1.2.3');
    expect(embeddedIpv4('2606:4700::1')).toBeUndefined();
    expect(embeddedIpv4('::1')).toBeUndefined();
  });

  describe('at create time (checkTarget), names are resolved and every address is checked', () => {
    const resolving = (answers: Record<string, string[]>) =>
      new HttpWebhookTransport({
        allowLoopback: false,
        resolve: async (host) => {
          const addresses = answers[host];
          if (!addresses) throw Object.assign(new Error('not found'), { code: 'ENOTFOUND' });
          return addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
        },
      });

    it('accepts a name that resolves only to public addresses', async () => {
      await expect(resolving({ 'hooks.example.com': ['93.184.216.34', '2606:2800:220:1::1'] }).checkTarget('https://hooks.example.com/in')).resolves.toBeUndefined();
    });

    it.each([
      ['https://internal.example.com/', /resolves to 10\.0\.0\.5/],
      ['https://mixed.example.com/', /resolves to 192\.168\.0\.9/],
      ['http://169.254.169.254/latest/meta-data/', /169\.254\.169\.254/],
      ['http://[::1]:8080/', /::1/],
      ['http://[::ffff:127.0.0.1]/', /::ffff:7f00:1|::ffff:127\.0\.0\.1/],
      ['https://nowhere.example.com/', /cannot resolve nowhere\.example\.com/],
      ['ftp://hooks.example.com/', /must use https/],
      ['https://user:pw@hooks.example.com/', /credentials/],
      ['not a url', /not a URL/],
    ])('refuses %s with a 400', async (url, message) => {
      const transport = resolving({ 'internal.example.com': ['10.0.0.5'], 'mixed.example.com': ['93.184.216.34', '192.168.0.9'], 'hooks.example.com': ['93.184.216.34'] });
      const error = await transport.checkTarget(url).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).status).toBe(400);
      expect((error as Error).message).toMatch(message);
    });

    it('connects to the address it checked, whatever the name would resolve to later', async () => {
      const { createServer } = await import('node:http');
      const server = createServer((req, res) => res.writeHead(req.headers.host?.startsWith('hooks.test:') ? 202 : 500).end());
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const port = (server.address() as { port: number }).port;
      try {
        const pinned = new HttpWebhookTransport({ allowLoopback: true, resolve: async () => [{ address: '127.0.0.1', family: 4 }] });
        // hooks.test resolves nowhere for the system; only the checked address can have been used.
        expect(await pinned.post({ url: `http://hooks.test:${port}/in`, headers: {}, body: '{}', timeoutMs: 2000 })).toMatchObject({ statusCode: 202 });
        const slow = createServer(() => undefined);
        await new Promise<void>((resolve) => slow.listen(0, '127.0.0.1', resolve));
        const timedOut = await pinned.post({ url: `http://hooks.test:${(slow.address() as { port: number }).port}/`, headers: {}, body: '{}', timeoutMs: 300 });
        expect(timedOut).toMatchObject({ error: 'No answer within 0.3 s' });
        slow.closeAllConnections();
        slow.close();
      } finally {
        server.close();
      }
    });

    it('refuses at delivery too, without connecting, when the name now resolves inside', async () => {
      let answer = ['93.184.216.34'];
      const transport = new HttpWebhookTransport({ allowLoopback: false, resolve: async () => answer.map((address) => ({ address, family: 4 })) });
      await transport.checkTarget('https://rebind.example.com/');
      answer = ['127.0.0.1'];
      const response = await transport.post({ url: 'https://rebind.example.com/', headers: {}, body: '{}', timeoutMs: 1000 });
      expect(response).toMatchObject({ error: expect.stringMatching(/^Refused: .*127\.0\.0\.1/) });
    });
  });
});
