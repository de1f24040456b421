import { DomainError, type ErrorDetail } from '../domain/errors.ts';

export interface ErrorBody {
  success: false;
  error: string;
  code: string;
  details: ErrorDetail[];
  requestId?: string;
}

export interface MappedError {
  statusCode: number;
  body: ErrorBody;
  /** Unexpected errors are logged with their stack; expected ones are the caller's doing. */
  unexpected: boolean;
}

const body = (error: string, code: string, details: ErrorDetail[] = []): ErrorBody => ({ success: false, error, code, details });

/** The one place where an error becomes an HTTP status and a message. No stack leaves here. */
export function mapError(error: unknown): MappedError {
  if (error instanceof DomainError) {
    return { statusCode: error.status, body: body(error.message, error.code, error.details), unexpected: false };
  }
  const middy = middyError(error);
  if (middy) return { ...middy, unexpected: false };
  return { statusCode: 500, body: body('Internal error; the request id identifies it in the logs', 'INTERNAL_ERROR'), unexpected: true };
}

/** Errors raised by middy's own middlewares (body parsing, routing). */
function middyError(error: unknown): Omit<MappedError, 'unexpected'> | null {
  const e = error as { statusCode?: number; message?: string; cause?: { package?: string; message?: string } };
  if (!e || typeof e.statusCode !== 'number') return null;
  if (e.cause?.package === '@middy/http-json-body-parser') {
    const why = e.cause.message ? `: ${e.cause.message}` : '';
    return { statusCode: 400, body: body(`Request body is not valid JSON${why}`, 'MALFORMED_JSON') };
  }
  if (e.cause?.package === '@middy/http-router') {
    return { statusCode: 404, body: body('No such route', 'ROUTE_NOT_FOUND') };
  }
  if (e.statusCode >= 400 && e.statusCode < 500) {
    return { statusCode: e.statusCode, body: body(e.message ?? 'Bad request', 'BAD_REQUEST') };
  }
  return null;
}
