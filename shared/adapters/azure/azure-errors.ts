import { ProviderError, type ProviderErrorKind } from '../../domain/errors.ts';

/**
 * The Azure error taxonomy: which failures a workflow may retry (transient, throttled, capacity)
 * and which need a person (invalid-request, auth). Codes are Resource Manager's and Compute's
 * own ("Troubleshoot common Azure deployment errors", "Resolve errors for SKU not available",
 * "Troubleshoot allocation failures"); the SDK puts them in the RestError's `code`.
 */
const KIND_BY_CODE: Readonly<Record<string, ProviderErrorKind>> = {
  TooManyRequests: 'throttled',
  SubscriptionRequestsThrottled: 'throttled',
  ResourceGroupRequestsThrottled: 'throttled',
  ResourceCollectionRequestsThrottled: 'throttled',
  OperationPreempted: 'transient',

  AllocationFailed: 'capacity',
  ZonalAllocationFailed: 'capacity',
  OverconstrainedAllocationRequest: 'capacity',
  OverconstrainedZonalAllocationRequest: 'capacity',
  QuotaExceeded: 'capacity',
  OperationNotAllowedQuota: 'capacity',

  SkuNotAvailable: 'invalid-request',
  InvalidParameter: 'invalid-request',
  InvalidRequestContent: 'invalid-request',
  BadRequest: 'invalid-request',
  OperationNotAllowed: 'invalid-request',
  Conflict: 'invalid-request',
  PropertyChangeNotAllowed: 'invalid-request',
  ImageNotFound: 'invalid-request',
  PlatformImageNotFound: 'invalid-request',
  InvalidResourceReference: 'invalid-request',
  ResourceGroupNotFound: 'invalid-request',

  ResourceNotFound: 'not-found',
  NotFound: 'not-found',

  AuthorizationFailed: 'auth',
  LinkedAuthorizationFailed: 'auth',
  AuthenticationFailed: 'auth',
  InvalidAuthenticationToken: 'auth',
  InvalidAuthenticationTokenTenant: 'auth',
  ExpiredAuthenticationToken: 'auth',
  SubscriptionNotFound: 'auth',
  InvalidSubscriptionId: 'auth',
  SubscriptionNotRegistered: 'auth',
  MissingSubscriptionRegistration: 'auth',
  DisallowedOperation: 'auth',
  RequestDisallowedByPolicy: 'auth',

  InternalServerError: 'transient',
  InternalExecutionError: 'transient',
  ServiceUnavailable: 'transient',
  GatewayTimeout: 'transient',
  RetryableError: 'transient',
  NetworkingInternalOperationError: 'transient',
};

const NETWORK_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'ENETUNREACH', 'EHOSTUNREACH', 'REQUEST_SEND_ERROR']);

const HINTS: Readonly<Record<ProviderErrorKind, string>> = {
  throttled: 'Azure Resource Manager is throttling this subscription; Hangar retries with backoff.',
  capacity: 'Try another size or region, or ask for more quota (Azure portal: Subscriptions → Usage + quotas).',
  'not-found': 'The resource no longer exists at Azure.',
  'invalid-request': 'Correct the request; retrying it unchanged will fail again.',
  auth: "Check the account's service principal (tenantId, clientId, clientSecret), its subscription, and its role on the resource group (Contributor, or Virtual Machine Contributor plus Network Contributor).",
  transient: 'Azure could not be reached or answered with an error; trying again usually helps.',
  fatal: '',
};

const SPECIFIC_HINTS: Readonly<Record<string, string>> = {
  AllocationFailed:
    'Azure has no capacity for this size in this region right now. Try again later, another size, or another region.',
  ZonalAllocationFailed:
    'Azure has no capacity for this size in the requested availability zone. Try again later, another zone, or no zone.',
  OverconstrainedAllocationRequest: 'No host satisfies all the constraints of this request (size, zone, accelerated networking…). Relax one, or try another region.',
  SkuNotAvailable:
    "This size is not offered to this subscription in this region (or zone). Pick another size or region; 'az vm list-skus --location <region> --size <size>' shows the restrictions.",
  QuotaExceeded: 'The subscription has no quota left for this size family in this region. Request more in the Azure portal (Subscriptions → Usage + quotas) or terminate unused machines.',
  OperationNotAllowedQuota:
    'The subscription has no vCPU quota left for this size family in this region. Request more in the Azure portal (Subscriptions → Usage + quotas) or terminate unused machines.',
  ResourceGroupNotFound: 'Create the resource group, or correct resourceGroup in the account.',
  SubscriptionNotFound: 'Correct subscriptionId, or give the service principal a role in that subscription.',
  MissingSubscriptionRegistration: "Register the resource providers Microsoft.Compute and Microsoft.Network in the subscription ('az provider register --namespace Microsoft.Compute').",
  AuthorizationFailed: 'Give the service principal Contributor (or Virtual Machine Contributor and Network Contributor) on the resource group.',
};

interface AzureLikeError {
  name?: unknown;
  code?: unknown;
  statusCode?: unknown;
  message?: unknown;
  details?: unknown;
  errorResponse?: { error?: unknown; errorDescription?: unknown };
}

/** The Azure error code of an SDK, identity or transport error ('' when it has none). */
export function azureErrorCode(error: unknown): string {
  if (!error || typeof error !== 'object') return '';
  const { name, code, message } = error as AzureLikeError;
  if (name === 'AuthenticationError' || name === 'AuthenticationRequiredError') return 'AuthenticationFailed';
  if (name === 'CredentialUnavailableError') return 'AuthenticationFailed';
  if (typeof code === 'string' && code !== '') {
    // Compute answers a quota refusal as OperationNotAllowed; only its message tells it apart.
    if (code === 'OperationNotAllowed' && typeof message === 'string' && /quota/i.test(message)) return 'OperationNotAllowedQuota';
    return code;
  }
  return '';
}

export function statusOf(error: unknown): number {
  const status = (error as AzureLikeError | null)?.statusCode;
  return typeof status === 'number' ? status : 0;
}

export function kindOfAzureError(error: unknown): ProviderErrorKind {
  if (error instanceof ProviderError) return error.kind;
  const code = azureErrorCode(error);
  const known = KIND_BY_CODE[code];
  if (known) return known;
  if (NETWORK_CODES.has(code)) return 'transient';
  const status = statusOf(error);
  if (status === 429) return 'throttled';
  if (status === 401 || status === 403) return 'auth';
  if (status === 404) return 'not-found';
  if (status >= 500) return 'transient';
  if (status >= 400) return 'invalid-request';
  if (code.startsWith('Invalid') || code.startsWith('Missing')) return 'invalid-request';
  // No status and no code: the request never got an answer (DNS, TLS, reset…).
  return status === 0 && !code ? 'transient' : 'fatal';
}

/** The human part of what Azure said: the message, with an identity error's AADSTS text. */
export function describeAzureError(error: unknown): string {
  if (error instanceof ProviderError) return error.message;
  const { message, errorResponse } = (error ?? {}) as AzureLikeError;
  let described = typeof errorResponse?.errorDescription === 'string' ? errorResponse.errorDescription : typeof message === 'string' ? message : String(error);
  // The SDK's pager drops the body's message ("Pagination failed with unexpected statusCode 404").
  if (described.startsWith('Pagination failed')) described = `Azure answered ${statusOf(error) || 'an error'}`;
  const first = described.split('\n')[0]?.trim().replace(/\.$/, '') || 'no message';
  const code = azureErrorCode(error);
  const shownCode = code === 'OperationNotAllowedQuota' ? 'OperationNotAllowed' : code;
  return shownCode && !first.includes(shownCode) ? `${first} (${shownCode})` : first;
}

/** `<lead>: <what Azure said> (<code>). <what to do>`, with the kind the code maps to. */
export function explainedProviderError(lead: string, error: unknown): ProviderError {
  if (error instanceof ProviderError) return error.message.startsWith(lead) ? error : new ProviderError(`${lead}: ${error.message}`, error.kind);
  const kind = kindOfAzureError(error);
  const hint = SPECIFIC_HINTS[azureErrorCode(error)] ?? HINTS[kind];
  return new ProviderError(`${lead}: ${describeAzureError(error)}${hint ? `. ${hint}` : ''}`, kind);
}

/** Any failure of an Azure call, as a ProviderError whose message reads after "Could not". */
export function toProviderError(error: unknown, doing: string): ProviderError {
  if (error instanceof ProviderError) return error;
  return explainedProviderError(`Could not ${doing}`, error);
}

/** A provisioning failure Compute recorded on the VM (instance view), in words a person can act on. */
export function explainProvisioningFailure(code: string, message: string | undefined): { reason: string; kind: ProviderErrorKind } {
  const kindCode = code === 'OperationNotAllowed' && message && /quota/i.test(message) ? 'OperationNotAllowedQuota' : code;
  const kind = KIND_BY_CODE[kindCode] ?? 'fatal';
  const hint = SPECIFIC_HINTS[kindCode] ?? (kind === 'fatal' ? '' : HINTS[kind]);
  const said = (message ?? '').split('\n')[0]?.trim().replace(/\.$/, '') || 'provisioning failed';
  return { reason: `Azure could not create the VM: ${said} (${code})${hint ? `. ${hint}` : ''}`, kind };
}

export const isNotFound = (error: unknown): boolean => statusOf(error) === 404 || kindOfAzureError(error) === 'not-found';
