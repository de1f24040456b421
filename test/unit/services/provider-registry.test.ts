import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../shared/domain/errors.ts';
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

describe('ProviderRegistry: the deployment\'s own AWS account', () => {
  const awsCreate = { provider: 'AWS' as const, clientId: 'client-a', region: 'eu-west-1', config: {} };

  function awsRegistry() {
    const asked: { provider: string; region: string; credentials: Record<string, unknown> }[] = [];
    const opened: string[] = [];
    const registry = new ProviderRegistry([]);
    registry.useAccounts(
      {
        openCredentials: async (_clientId, accountId) => {
          opened.push(accountId);
          return { provider: 'AWS', region: 'eu-west-1', credentials: { roleArn: 'arn:aws:iam::1:role/x' } };
        },
      },
      (provider, account) => {
        asked.push({ provider, ...account });
        return new FakeProvider({ name: provider });
      },
      ['AWS', 'OPENSTACK'],
    );
    return { registry, asked, opened };
  }

  it('refuses an AWS create without accountId unless allowed, saying how to register an account', async () => {
    const { registry, asked } = awsRegistry();
    const refusal = registry.forInstance(awsCreate);
    await expect(refusal).rejects.toBeInstanceOf(ValidationError);
    await expect(refusal).rejects.toMatchObject({ status: 400, details: [{ path: 'config.accountId', message: 'required' }] });
    await expect(refusal).rejects.toThrow(/POST \/api\/accounts .*"credentials": \{"roleArn"/);
    expect(asked).toEqual([]);
  });

  it('uses the deployment\'s own role (empty credentials: the SDK default chain) when allowed, one adapter per region', async () => {
    const { registry, asked, opened } = awsRegistry();
    registry.allowDeploymentAwsAccount(true);

    const [first, second] = await Promise.all([registry.forInstance(awsCreate), registry.forInstance(awsCreate)]);
    const elsewhere = await registry.forInstance({ ...awsCreate, region: 'us-east-1' });

    expect(first).toBe(second);
    expect(elsewhere).not.toBe(first);
    expect(asked).toEqual([
      { provider: 'AWS', region: 'eu-west-1', credentials: {} },
      { provider: 'AWS', region: 'us-east-1', credentials: {} },
    ]);
    expect(opened).toEqual([]);
  });

  it('still reaches an existing instance created that way after the allowance is withdrawn', async () => {
    const { registry, asked } = awsRegistry();
    await expect(registry.forInstance({ ...awsCreate, status: 'READY' })).resolves.toBeInstanceOf(FakeProvider);
    expect(asked).toEqual([{ provider: 'AWS', region: 'eu-west-1', credentials: {} }]);
  });

  it('never applies to other clouds, and an account named still wins', async () => {
    const { registry, asked, opened } = awsRegistry();
    registry.allowDeploymentAwsAccount(true);
    await expect(registry.forInstance({ ...awsCreate, provider: 'OPENSTACK' })).rejects.toThrow(/config\.accountId is required for OPENSTACK/);
    await registry.forInstance({ ...awsCreate, config: { accountId: 'acct-aws' } });
    expect(opened).toEqual(['acct-aws']);
    expect(asked).toEqual([{ provider: 'AWS', region: 'eu-west-1', credentials: { roleArn: 'arn:aws:iam::1:role/x' } }]);
  });
});
