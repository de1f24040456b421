import type { ProviderName } from '../domain/catalog.ts';
import type { ComputeProvider } from './compute-provider.ts';

/** Credentials as the account holds them: each cloud's own field names (see schemas.ts). */
export type AccountCredentials = Record<string, string>;

/** Builds a provider adapter that acts with one account's credentials in one region. */
export type ProviderFactory = (
  provider: ProviderName,
  account: { region: string; credentials: AccountCredentials },
) => ComputeProvider | Promise<ComputeProvider>;

/** Where the registry opens an account's credentials (the account service, with the SecretBox). */
export interface AccountCredentialSource {
  openCredentials(clientId: string, accountId: string): Promise<{ provider: ProviderName; region: string; credentials: AccountCredentials }>;
}
