import { ProviderError, type ProviderErrorKind } from '../../domain/errors.ts';

/**
 * The EC2 error taxonomy: which failures a workflow may retry (transient, throttled, capacity)
 * and which need a person (invalid-request, auth). Codes are those of the EC2 API reference
 * ("Error codes for the Amazon EC2 API"); the SDK puts the code in the error's `name`.
 */
const KIND_BY_CODE: Readonly<Record<string, ProviderErrorKind>> = {
  RequestLimitExceeded: 'throttled',
  Throttling: 'throttled',
  ThrottlingException: 'throttled',
  RequestThrottled: 'throttled',

  InsufficientInstanceCapacity: 'capacity',
  InsufficientCapacity: 'capacity',
  InsufficientHostCapacity: 'capacity',
  InsufficientReservedInstanceCapacity: 'capacity',
  InsufficientAddressCapacity: 'capacity',
  InsufficientFreeAddressesInSubnet: 'capacity',
  InstanceLimitExceeded: 'capacity',
  VcpuLimitExceeded: 'capacity',

  'InvalidInstanceID.NotFound': 'not-found',

  IdempotentParameterMismatch: 'invalid-request',
  MissingParameter: 'invalid-request',
  Unsupported: 'invalid-request',
  UnsupportedOperation: 'invalid-request',
  OperationNotPermitted: 'invalid-request',
  VPCIdNotSpecified: 'invalid-request',

  AuthFailure: 'auth',
  UnauthorizedOperation: 'auth',
  InvalidClientTokenId: 'auth',
  SignatureDoesNotMatch: 'auth',
  IncompleteSignature: 'auth',
  MissingAuthenticationToken: 'auth',
  ExpiredToken: 'auth',
  AccessDenied: 'auth',
  CredentialsProviderError: 'auth',
  OptInRequired: 'auth',
  Blocked: 'auth',
  PendingVerification: 'auth',

  // The instance is between states (stopping when asked to start…); it settles by itself.
  IncorrectInstanceState: 'transient',
  InternalError: 'transient',
  InternalFailure: 'transient',
  ServiceUnavailable: 'transient',
  Unavailable: 'transient',
  RequestTimeout: 'transient',
  RequestTimeoutException: 'transient',
  TimeoutError: 'transient',
};

/** Node and SDK transport failures: the request may never have reached EC2. */
const NETWORK_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'ENETUNREACH', 'EHOSTUNREACH']);

const HINTS: Readonly<Record<ProviderErrorKind, string>> = {
  throttled: 'AWS is rate-limiting EC2 calls for this account and region; Hangar retries with backoff.',
  capacity: 'Try another instance type or subnet (availability zone), or raise the EC2 quota in Service Quotas.',
  'not-found': 'The instance no longer exists at AWS.',
  'invalid-request': 'Correct the request; retrying it unchanged will fail again.',
  auth: "Check the account's AWS credentials and its IAM permissions for EC2.",
  transient: 'AWS EC2 could not be reached or answered with an error; trying again usually helps.',
  fatal: '',
};

const SPECIFIC_HINTS: Readonly<Record<string, string>> = {
  IdempotentParameterMismatch:
    'EC2 already received a launch for this instance with different settings and will not launch a second machine under the same id.',
  InstanceLimitExceeded: 'Raise the On-Demand instance quota in Service Quotas or terminate unused instances.',
  VcpuLimitExceeded: 'Raise the On-Demand vCPU quota in Service Quotas or terminate unused instances.',
  OptInRequired: 'The region is not enabled for this account, or the account is not subscribed to EC2.',
};

/** The EC2 error code of an SDK or transport error ('' when it has none). */
export function ec2ErrorCode(error: unknown): string {
  if (!error || typeof error !== 'object') return '';
  const { name, code, Code } = error as { name?: unknown; code?: unknown; Code?: unknown };
  if (typeof Code === 'string') return Code;
  if (typeof code === 'string' && NETWORK_CODES.has(code)) return code;
  return typeof name === 'string' && name !== 'Error' ? name : typeof code === 'string' ? code : '';
}

export function kindOfEc2Error(error: unknown): ProviderErrorKind {
  const code = ec2ErrorCode(error);
  const known = KIND_BY_CODE[code];
  if (known) return known;
  if (NETWORK_CODES.has(code)) return 'transient';
  if (code.startsWith('Invalid') || code.startsWith('Missing')) return 'invalid-request';
  const { $fault, $metadata } = (error ?? {}) as { $fault?: string; $metadata?: { httpStatusCode?: number } };
  const status = $metadata?.httpStatusCode ?? 0;
  if ($fault === 'server' || status >= 500) return 'transient';
  if (status === 401 || status === 403) return 'auth';
  if (status === 429) return 'throttled';
  return 'fatal';
}

/** The human part of an EC2 message, without the encoded IAM blob UnauthorizedOperation carries. */
function readableMessage(error: unknown): string {
  const raw = error instanceof Error ? error.message : typeof error === 'string' ? error : '';
  const message = raw.split('\n')[0]?.trim() ?? '';
  const blob = message.indexOf('Encoded authorization failure message:');
  if (blob >= 0) return `${message.slice(0, blob).trim().replace(/\.$/, '')} (decode the details with 'aws sts decode-authorization-message')`;
  return message;
}

export function describeEc2Error(error: unknown): string {
  if (error instanceof ProviderError) return error.message;
  const code = ec2ErrorCode(error);
  const message = readableMessage(error).replace(/\.$/, '') || 'no message';
  return code && !message.includes(code) ? `${message} (${code})` : message;
}

/**
 * Any failure of an EC2 call as a ProviderError whose message says what was attempted, what
 * EC2 answered and what to do; never a stack. `doing` reads after "Could not", e.g.
 * "launch vps-web-abc123 as t3.micro in us-east-1".
 */
export function toProviderError(error: unknown, doing: string): ProviderError {
  if (error instanceof ProviderError) return error;
  return explainedProviderError(`Could not ${doing}`, error);
}

/** `<lead>: <what EC2 said> (<code>). <what to do>`, with the kind the code maps to. */
export function explainedProviderError(lead: string, error: unknown): ProviderError {
  const kind = error instanceof ProviderError ? error.kind : kindOfEc2Error(error);
  const hint = SPECIFIC_HINTS[ec2ErrorCode(error)] ?? HINTS[kind];
  return new ProviderError(`${lead}: ${describeEc2Error(error)}${hint ? `. ${hint}` : ''}`, kind);
}

/** DescribeInstances and the instance actions answer these for ids that do not (or cannot) exist. */
export function isUnknownInstanceError(error: unknown): boolean {
  const code = ec2ErrorCode(error);
  return code === 'InvalidInstanceID.NotFound' || code === 'InvalidInstanceID.Malformed';
}
