import { Webhook, WebhookVerificationError } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { generateWebhookSecret, signatureOf, signedHeaders } from '../../../shared/adapters/webhooks/signature.ts';

describe('webhook signatures (Standard Webhooks)', () => {
  const body = JSON.stringify({ type: 'instance.ready', timestamp: '2026-01-01T00:00:00.000Z', data: { event: { id: 'e1' }, instance: { id: 'vps-a-abc123' } } });
  const now = () => Math.floor(Date.now() / 1000);

  it('makes whsec_ secrets of 24 random bytes, never the same twice', () => {
    const a = generateWebhookSecret();
    const b = generateWebhookSecret();
    expect(a).toMatch(/^whsec_[A-Za-z0-9+/]{32}$/);
    expect(Buffer.from(a.slice(6), 'base64')).toHaveLength(24);
    expect(a).not.toBe(b);
  });

  it('signs so that the standardwebhooks library verifies the message', () => {
    const secret = generateWebhookSecret();
    const headers = signedHeaders([secret], 'msg-01J-abc', now(), body);
    expect(headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    expect(new Webhook(secret).verify(body, headers)).toEqual(JSON.parse(body));
  });

  it('gives the same signature the library computes for the same id, time and body', () => {
    const secret = generateWebhookSecret();
    const timestamp = now();
    expect(signatureOf(secret, 'msg-1', timestamp, body)).toBe(new Webhook(secret).sign('msg-1', new Date(timestamp * 1000), body));
  });

  it('is refused by the library when the body, the id, the secret or the time is not the signed one', () => {
    const secret = generateWebhookSecret();
    const timestamp = now();
    const headers = signedHeaders([secret], 'msg-1', timestamp, body);
    expect(() => new Webhook(secret).verify(body.replace('ready', 'error'), headers)).toThrow(WebhookVerificationError);
    expect(() => new Webhook(secret).verify(body, { ...headers, 'webhook-id': 'msg-2' })).toThrow(WebhookVerificationError);
    expect(() => new Webhook(generateWebhookSecret()).verify(body, headers)).toThrow(WebhookVerificationError);
    const stale = signedHeaders([secret], 'msg-1', timestamp - 3600, body);
    expect(() => new Webhook(secret).verify(body, stale)).toThrow(/too old/i);
  });

  it('signs with every secret given, so receivers on the old or the new secret both verify during a rotation', () => {
    const previous = generateWebhookSecret();
    const current = generateWebhookSecret();
    const headers = signedHeaders([current, previous], 'msg-1', now(), body);
    expect(headers['webhook-signature']!.split(' ')).toHaveLength(2);
    expect(new Webhook(current).verify(body, headers)).toBeTruthy();
    expect(new Webhook(previous).verify(body, headers)).toBeTruthy();
  });
});
