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
  private deploymentAwsAccount = false;

  constructor(providers: ComputeProvider[]) {
    for (const provider of providers) this.shared.set(provider.name, provider);
  }

  /** Let cloud providers be built from accounts (wired after the account service exists). */
  useAccounts(accounts: AccountCredentialSource, factory: ProviderFactory, names: ProviderName[]): void {
    this.clouds = { accounts, factory, names };
  }

  /**
   * Let an AWS create without `accountId` run on the deployment's own role (the functions'
   * credentials, the SDK's default chain), as the provisioner's requests expect. The operator
   * turns it on per stage (docs/deploy.md); off, such a create is a 400 saying how to register
   * an account.
   */
  allowDeploymentAwsAccount(allowed: boolean): void {
    this.deploymentAwsAccount = allowed;
  }

  /** A provider that needs no account. */
  get(name: ProviderName): ComputeProvider {
    const provider = this.shared.get(name);
    if (!provider) throw notAvailable(name, this.names());
    return provider;
  }

  /**
   * The provider an instance lives on: shared, or built from the instance's account. An AWS
   * instance without an account uses the deployment's own role when the deployment allows it
   * (allowDeploymentAwsAccount) — and always once it exists (it has a status): it was created
   * under that allowance, and withdrawing it must not strand its machine.
   */
  async forInstance(instance: { provider: ProviderName; clientId: string; region: string; config: { accountId?: string }; status?: string }): Promise<ComputeProvider> {
    const shared = this.shared.get(instance.provider);
    if (shared) return shared;
    if (!this.clouds?.names.includes(instance.provider)) throw notAvailable(instance.provider, this.names());
    const { accountId } = instance.config;
    if (!accountId) {
      if (instance.provider === 'AWS' && (this.deploymentAwsAccount || instance.status !== undefined)) return this.deploymentAws(instance.region);
      throw new ValidationError(
        `config.accountId is required for ${instance.provider} instances: register an account with POST /api/accounts (an admin key) and name it` +
          (instance.provider === 'AWS'
            ? `, e.g. {"provider": "AWS", "name": "main", "region": "${instance.region}", "credentials": {"roleArn": "arn:aws:iam::<account>:role/<role>", "externalId": "…"}} ` +
              `or "credentials": {} for this deployment's own role; or ask the operator to allow this deployment's own AWS account for creates without one`
            : ''),
        [{ path: 'config.accountId', message: 'required' }],
      );
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

  /** The deployment's own AWS credentials in one region: one adapter per region, kept. */
  private deploymentAws(region: string): Promise<ComputeProvider> {
    const key = `deployment/AWS/${region}`;
    const cached = this.perAccount.get(key);
    if (cached) return cached;
    const building = Promise.resolve(this.clouds!.factory('AWS', { region, credentials: {} }));
    this.perAccount.set(key, building);
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
