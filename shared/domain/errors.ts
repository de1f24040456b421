/**
 * Domain errors. Each carries the HTTP status and machine code it maps to, so the mapping to a
 * response lives in one place (shared/http/errors.ts) and services never speak HTTP.
 */
export interface ErrorDetail {
  path?: string;
  message: string;
}

export abstract class DomainError extends Error {
  abstract readonly status: number;
  abstract readonly code: string;
  readonly details: ErrorDetail[];

  constructor(message: string, details: ErrorDetail[] = []) {
    super(message);
    this.name = new.target.name;
    this.details = details;
  }
}

export class ValidationError extends DomainError {
  readonly status = 400;
  readonly code: string;
  constructor(message: string, details: ErrorDetail[] = [], code = 'VALIDATION_ERROR') {
    super(message, details);
    this.code = code;
  }
}

/** A page cursor this list never handed out (garbage, edited, or another list's): the caller's mistake, a 400. */
export const invalidCursorError = () =>
  new ValidationError('cursor is not valid; start again without it', [{ path: 'cursor', message: 'not a cursor this list returned' }]);

export class UnauthorizedError extends DomainError {
  readonly status = 401;
  readonly code = 'UNAUTHORIZED';
}

export class ForbiddenError extends DomainError {
  readonly status = 403;
  readonly code = 'FORBIDDEN';
}

export class NotFoundError extends DomainError {
  readonly status = 404;
  readonly code = 'NOT_FOUND';
  constructor(kind: string, id: string) {
    super(`${kind} '${id}' was not found`);
  }
}

export class ConflictError extends DomainError {
  readonly status = 409;
  readonly code: string;
  constructor(message: string, code = 'CONFLICT') {
    super(message);
    this.code = code;
  }
}

/** Another writer changed the item between our read and our write. */
export class VersionConflictError extends ConflictError {
  constructor(kind: string, id: string) {
    super(`${kind} '${id}' was changed by another request; read it again and retry`, 'VERSION_CONFLICT');
  }
}

/**
 * The caller made its write conditional on a version (If-Match) and the item is no longer at it:
 * it must read the item again, not have its change laid over someone else's.
 */
export class PreconditionFailedError extends DomainError {
  readonly status = 412;
  readonly code = 'PRECONDITION_FAILED';
  constructor(kind: string, id: string, currentVersion?: number) {
    super(
      `${kind} '${id}' ${currentVersion === undefined ? 'changed' : `is at version ${currentVersion}`}, not the version If-Match named; ` +
        'read it again (its ETag says the version) and retry',
    );
  }
}

export class IllegalTransitionError extends DomainError {
  readonly status = 422;
  readonly code = 'ILLEGAL_TRANSITION';
  constructor(
    readonly currentStatus: string,
    readonly action: string,
    allowedFrom: readonly string[],
  ) {
    super(
      `Cannot ${action} an instance that is ${currentStatus}; allowed only from ${allowedFrom.join(', ')}`,
    );
  }
}

/** The action needs a machine Hangar manages; an EXTERNAL endpoint is only watched. */
export class UnmanagedMachineError extends DomainError {
  readonly status = 422;
  readonly code = 'NOT_MANAGED';
}

/** A quota refused a create; `usage` carries the numbers when the refusal knows them. */
export class QuotaExceededError extends DomainError {
  readonly status = 400;
  readonly code = 'QUOTA_EXCEEDED';
  constructor(
    message: string,
    details: ErrorDetail[] = [],
    readonly usage?: { used: number; limit: number },
  ) {
    super(message, details);
  }

  /** The live-instance quota, worded once for every place that enforces it. */
  static liveInstances(client: string, live: number, max: number): QuotaExceededError {
    return new QuotaExceededError(`Client '${client}' already has ${live} of its ${max} instances; terminate one or raise maxInstances`, [], {
      used: live,
      limit: max,
    });
  }
}

/**
 * How a provider failed, which decides what a workflow does next: transient, throttled and
 * capacity failures are retried with backoff; the others are surfaced at once.
 */
export const PROVIDER_ERROR_KINDS = ['transient', 'throttled', 'capacity', 'not-found', 'invalid-request', 'auth', 'fatal'] as const;
export type ProviderErrorKind = (typeof PROVIDER_ERROR_KINDS)[number];
const RETRYABLE_KINDS: readonly ProviderErrorKind[] = ['transient', 'throttled', 'capacity'];

/** The provider refused or failed; `kind` tells workflows whether to try again. */
export class ProviderError extends DomainError {
  readonly status = 502;
  readonly code = 'PROVIDER_ERROR';
  readonly kind: ProviderErrorKind;

  /** `true`/`false` are shorthand for transient/fatal. */
  constructor(message: string, kind: ProviderErrorKind | boolean = 'fatal') {
    super(message);
    this.kind = typeof kind === 'boolean' ? (kind ? 'transient' : 'fatal') : kind;
  }

  get retryable(): boolean {
    return RETRYABLE_KINDS.includes(this.kind);
  }
}
