import type { SealedSecret } from './sealed-secret.ts';
import type { ProviderName } from './catalog.ts';

/** Providers that need an account. LOCAL runs here and EXTERNAL is only watched. */
export const ACCOUNT_PROVIDERS = ['AWS', 'OPENSTACK', 'AZURE'] as const;
export type AccountProvider = (typeof ACCOUNT_PROVIDERS)[number];

export const isAccountProvider = (provider: ProviderName): provider is AccountProvider =>
  (ACCOUNT_PROVIDERS as readonly string[]).includes(provider);

/** Credential fields as given (see the credential schemas); only ever held sealed at rest. */
export type Credentials = Record<string, string>;

export interface ConnectionTestResult {
  ok: boolean;
  /** "Connected" or the provider's reason, e.g. "Cannot connect to OpenStack at …: 401 Unauthorized". */
  message: string;
}

/** A tenant's account at a provider, as stored. `sealedCredentials` never leaves the service. */
export interface Account {
  accountId: string;
  clientId: string;
  provider: AccountProvider;
  name: string;
  region: string;
  sealedCredentials: SealedSecret;
  /** Names of the credential fields, so a person can tell which form was given. */
  credentialKeys: string[];
  createdAt: string;
  updatedAt: string;
  createdBy?: string;
  lastTestedAt: string;
  lastTestResult: ConnectionTestResult;
  version: number;
}

/** The secret context of an account's credentials: they open only on this very record. */
export const credentialsContext = (account: Pick<Account, 'clientId' | 'accountId'>): Record<string, string> => ({
  purpose: 'hangar:account-credentials',
  clientId: account.clientId,
  accountId: account.accountId,
});

/** The account as clients read it: no credentials, only the names of their fields. */
export function presentAccount(account: Account) {
  return {
    id: account.accountId,
    clientId: account.clientId,
    provider: account.provider,
    name: account.name,
    region: account.region,
    createdAt: account.createdAt,
    updatedAt: account.updatedAt,
    lastTestedAt: account.lastTestedAt,
    lastTestResult: account.lastTestResult,
    credentialKeys: account.credentialKeys,
  };
}

/** The credential fields that are secrets (the others, such as authUrl, may appear in messages). */
export const SECRET_CREDENTIAL_FIELDS = ['password', 'applicationCredentialSecret', 'secretAccessKey', 'externalId', 'clientSecret'] as const;

/**
 * A provider's message with any secret credential value blanked: messages are shown to callers
 * and kept on the record, and an adapter might echo what it sent.
 */
export function redactCredentials(message: string, credentials: Credentials): string {
  let out = message;
  for (const field of SECRET_CREDENTIAL_FIELDS) {
    const value = credentials[field];
    if (value && value.length >= 4) out = out.split(value).join('***');
  }
  return out;
}
