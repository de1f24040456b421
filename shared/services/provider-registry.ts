import type { ProviderName } from '../domain/catalog.ts';
import { ValidationError } from '../domain/errors.ts';
import type { ComputeProvider } from '../ports/compute-provider.ts';
import type { AccountCredentialSource, ProviderFactory } from '../ports/providers.ts';

const notAvailable = (name: string, available: string[]) =>
  new ValidationError(
    `Provider '${name}' is not available in this deployment; available: ${available.join(', ') || 'none'}`,
    [{ path: 'config.provider', message: 'not available' }],
    'PROVIDER_NOT_AVAILABLE',
  );

/**
 * The providers this deployment can drive. Shared providers (LOCAL, EXTERNAL) need no account;
 * cloud providers are built per client account and region from its opened credentials, and
 * kept while the process lives (adapters cache their tokens and clients).
 */
export class ProviderRegistry {
  private readonly shared = new Map<ProviderName, ComputeProvider>();
  /** Pending adapters too: concurrent first calls share one adapter (and one token), not one each. */
  private readonly perAccount = new Map<string, Promise<ComputeProvider>>();
  private clouds: { factory: ProviderFactory; accounts: AccountCredentialSource; names: ProviderName[] } | undefined;

  constructor(providers: ComputeProvider[]) {
    for (const provider of providers) this.shared.set(provider.name, provider);
  }

  /** Let cloud providers be built from accounts (wired after the account service exists). */
  useAccounts(accounts: AccountCredentialSource, factory: ProviderFactory, names: ProviderName[]): void {
    this.clouds = { accounts, factory, names };
  }

  /** A provider that needs no account. */
  get(name: ProviderName): ComputeProvider {
    const provider = this.shared.get(name);
    if (!provider) throw notAvailable(name, this.names());
    return provider;
  }

  /** The provider an instance lives on: shared, or built from the instance's account. */
  async forInstance(instance: { provider: ProviderName; clientId: string; region: string; config: { accountId?: string } }): Promise<ComputeProvider> {
    const shared = this.shared.get(instance.provider);
    if (shared) return shared;
    if (!this.clouds?.names.includes(instance.provider)) throw notAvailable(instance.provider, this.names());
    const { accountId } = instance.config;
    if (!accountId) {
      throw new ValidationError(`config.accountId is required for ${instance.provider} instances: register an account with POST /api/accounts`, [
        { path: 'config.accountId', message: 'required' },
      ]);
    }
    const key = `${instance.clientId}/${accountId}/${instance.region}`;
    const cached = this.perAccount.get(key);
    if (cached) return cached;
    const clouds = this.clouds;
    const building = (async () => {
      const opened = await clouds.accounts.openCredentials(instance.clientId, accountId);
      if (opened.provider !== instance.provider) {
        throw new ValidationError(`Account '${accountId}' is a ${opened.provider} account, not ${instance.provider}`, [
          { path: 'config.accountId', message: 'wrong provider' },
        ]);
      }
      return clouds.factory(instance.provider, { region: instance.region, credentials: opened.credentials });
    })();
    this.perAccount.set(key, building);
    // A failure is not cached: the next call tries again (the account may be fixed by then).
    building.catch(() => {
      if (this.perAccount.get(key) === building) this.perAccount.delete(key);
    });
    return building;
  }

  /** Forget cached adapters of an account (deleted or re-tested). */
  forgetAccount(clientId: string, accountId: string): void {
    for (const key of this.perAccount.keys()) if (key.startsWith(`${clientId}/${accountId}/`)) this.perAccount.delete(key);
  }

  names(): ProviderName[] {
    return [...this.shared.keys(), ...(this.clouds?.names ?? [])];
  }
}
