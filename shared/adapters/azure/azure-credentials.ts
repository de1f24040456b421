import { ProviderError } from '../../domain/errors.ts';

/** A service principal, as the Azure CLI and Terraform take it, with the cloud it lives in. */
export interface AzureCredentials {
  tenantId: string;
  clientId: string;
  clientSecret: string;
  subscriptionId: string;
  resourceGroup: string;
  cloud: AzureCloud;
}

/** Where Resource Manager and Microsoft Entra ID answer for this account. */
export interface AzureCloud {
  resourceManagerEndpoint: string;
  authorityHost: string;
}

/** The public cloud; sovereign clouds and Azure Stack name theirs in `cloud`. */
export const AZURE_PUBLIC_CLOUD: AzureCloud = {
  resourceManagerEndpoint: 'https://management.azure.com',
  authorityHost: 'https://login.microsoftonline.com',
};

/**
 * An account's stored credentials (flat: the account schema lifts `cloud.resourceManagerEndpoint`
 * and `cloud.authorityHost` to `resourceManagerEndpoint` and `authorityHost`) or the nested form
 * a caller gives, as AzureCredentials. Endpoints are checked before any secret is sent.
 */
export function toAzureCredentials(raw: Record<string, unknown>): AzureCredentials {
  const text = (field: string): string => {
    const value = raw[field];
    if (typeof value !== 'string' || value.trim() === '') {
      throw new ProviderError(`Azure credentials need ${field}`, 'invalid-request');
    }
    return value.trim();
  };
  const nested = (typeof raw.cloud === 'object' && raw.cloud !== null ? raw.cloud : {}) as Record<string, unknown>;
  const endpoint = (field: 'resourceManagerEndpoint' | 'authorityHost'): string => {
    const value = raw[field] ?? nested[field];
    return typeof value === 'string' && value.trim() !== '' ? checkEndpoint(field, value.trim()) : AZURE_PUBLIC_CLOUD[field];
  };
  return {
    tenantId: text('tenantId'),
    clientId: text('clientId'),
    clientSecret: text('clientSecret'),
    subscriptionId: text('subscriptionId'),
    resourceGroup: text('resourceGroup'),
    cloud: { resourceManagerEndpoint: endpoint('resourceManagerEndpoint'), authorityHost: endpoint('authorityHost') },
  };
}

/** 127.0.0.0/8, ::1 and localhost: the only hosts Hangar talks to over plain http. */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return host === 'localhost' || host === '::1' || /^127(\.\d{1,3}){3}$/.test(host);
}

/**
 * An endpoint must be https, except on a loopback host (a local emulator or a test double). The
 * answer is the URL without a trailing slash. Refused before any request is made, so a secret
 * never travels in the clear.
 */
export function checkEndpoint(field: string, value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ProviderError(`cloud.${field} must be a URL, e.g. https://management.usgovcloudapi.net`, 'invalid-request');
  }
  if (url.protocol === 'http:' && !isLoopbackHost(url.hostname)) {
    throw new ProviderError(`cloud.${field} must use https (plain http is allowed only for a loopback endpoint): ${url.origin}`, 'invalid-request');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ProviderError(`cloud.${field} must be an https URL`, 'invalid-request');
  }
  return url.href.replace(/\/+$/, '');
}

/** The https form the SDK is given; loopback-http-client.ts sends it over http again. */
export function asHttps(endpoint: string): string {
  return endpoint.replace(/^http:/, 'https:');
}

/** Resource Manager's token audience: the public one, or the custom endpoint's own origin. */
export function armScope(resourceManagerEndpoint: string): string {
  const origin = new URL(asHttps(resourceManagerEndpoint)).origin;
  return `${origin}/.default`;
}
