import { ConflictError, DomainError, ForbiddenError, NotFoundError, ProviderError, UnauthorizedError, ValidationError } from '../domain/errors.ts';
import { ERRORS } from './definitions.ts';

/**
 * Give a failure the name the state machines' Retry and Catch rules match on. Step Functions
 * sees a Lambda error's `name` as its error type; the message carries on as the cause.
 */
export function toStepError(error: unknown): Error {
  const named = (name: string, message: string) => Object.assign(new Error(message), { name });
  if (error instanceof ProviderError) {
    const byKind = {
      transient: ERRORS.transient,
      throttled: ERRORS.throttled,
      capacity: ERRORS.capacity,
      'not-found': ERRORS.notFound,
      'invalid-request': ERRORS.invalidRequest,
      auth: ERRORS.auth,
      fatal: ERRORS.fatal,
    } as const;
    return named(byKind[error.kind], error.message);
  }
  if (error instanceof ConflictError) return named(ERRORS.conflict, error.message);
  if (error instanceof ValidationError) return named(ERRORS.invalidRequest, error.message);
  if (error instanceof NotFoundError) return named(ERRORS.notFound, error.message);
  if (error instanceof UnauthorizedError || error instanceof ForbiddenError) return named(ERRORS.auth, error.message);
  if (error instanceof DomainError) return named(ERRORS.fatal, error.message);
  if (error instanceof Error) return error;
  return named(ERRORS.fatal, String(error));
}
