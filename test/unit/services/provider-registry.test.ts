import { describe, expect, it } from 'vitest';
import type { AccountCredentialSource } from '../../../shared/ports/providers.ts';
import { ProviderRegistry } from '../../../shared/services/provider-registry.ts';
import { FakeProvider } from '../../support/fakes.ts';

const instance = { provider: 'OPENSTACK' as const, clientId: 'client-a', region: 'RegionOne', config: { accountId: 'acct-1' } };

function registryWith(open: AccountCredentialSource['openCredentials']) {
  const built: FakeProvider[] = [];
  const registry = new ProviderRegistry([]);
  registry.useAccounts({ openCredentials: open }, () => {
    const adapter = new FakeProvider({ name: 'OPENSTACK' });
    built.push(adapter);
    return adapter;
  }, ['OPENSTACK']);
  return { registry, built };
}

describe('ProviderRegistry', () => {
  it('builds one adapter for concurrent first calls on one account and region', async () => {
    let opened = 0;
    const { registry, built } = registryWith(async () => {
      opened++;
      await new Promise((resolve) => setTimeout(resolve, 20));
      return { provider: 'OPENSTACK', region: 'RegionOne', credentials: {} };
    });
    const adapters = await Promise.all([registry.forInstance(instance), registry.forInstance(instance), registry.forInstance(instance)]);
    expect(built).toHaveLength(1);
    expect(opened).toBe(1);
    expect(new Set(adapters).size).toBe(1);
  });

  it('does not keep a failure: the next call opens the account again', async () => {
    let attempt = 0;
    const { registry, built } = registryWith(async () => {
      attempt++;
      if (attempt === 1) throw new Error('secret box unavailable');
      return { provider: 'OPENSTACK', region: 'RegionOne', credentials: {} };
    });
    await expect(registry.forInstance(instance)).rejects.toThrow('secret box unavailable');
    const adapter = await registry.forInstance(instance);
    expect(built).toEqual([adapter]);
    expect(attempt).toBe(2);
  });

  it('refuses an account of another provider, naming both', async () => {
    const { registry } = registryWith(async () => ({ provider: 'AWS', region: 'eu-west-1', credentials: {} }));
    await expect(registry.forInstance(instance)).rejects.toThrow("Account 'acct-1' is a AWS account, not OPENSTACK");
  });
});
