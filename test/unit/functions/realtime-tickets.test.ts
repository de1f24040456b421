import { describe, expect, it } from 'vitest';
import { gatewayHost } from '../../../functions/api/realtime.ts';
import { ValidationError } from '../../../shared/domain/errors.ts';

describe('the host a local ticket points at', () => {
  it('is the Host the request came to', () => {
    expect(gatewayHost('127.0.0.1:3000')).toBe('127.0.0.1:3000');
    expect(gatewayHost('localhost')).toBe('localhost');
    expect(gatewayHost('[::1]:3000')).toBe('[::1]:3000');
    expect(gatewayHost(undefined)).toBe('localhost');
  });

  it('refuses a Host that names no host with a 400, never a 500', () => {
    for (const hostile of ['a b', 'x:99999', 'evil.example/path', 'user@host', 'host?q=1', '[zz', 'h#frag']) {
      expect(() => gatewayHost(hostile), hostile).toThrow(ValidationError);
    }
  });
});
