import { IdempotencyAlreadyInProgressError, IdempotencyConfig, IdempotencyValidationError, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import type { BasePersistenceLayer } from '@aws-lambda-powertools/idempotency/persistence';
import type { APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { ConflictError } from '../domain/errors.ts';

/** A request under an Idempotency-Key: who asked where, the key, and the canonical body. */
export interface IdempotentCall {
  scope: string;
  key: string;
  body: string;
}
const DUPLICATE_WAIT_MS = 100;
const DUPLICATE_WAIT_ATTEMPTS = 100;
type Response = APIGatewayProxyStructuredResultV2;
type IdempotentRunner = (call: IdempotentCall, work: () => Promise<Response>) => Promise<Response>;
/** One runner per store: a process has one, but tests and the bench compose several tables. */
const idempotentRunners = new WeakMap<BasePersistenceLayer, IdempotentRunner>();
let idempotencyConfig: IdempotencyConfig | undefined;

/**
 * The Idempotency-Key contract: the same key and body replays the first response; the same key
 * with another body is a 409. Keys are scoped to the caller's API key and the route, and live
 * 24 h. Bodies are compared canonically (key order does not matter), and a duplicate that
 * arrives while the first is still running waits for its answer instead of failing. Loaded by
 * the HTTP stack only for a request that carries a key, with Powertools' idempotency.
 */
export async function runIdempotently(store: BasePersistenceLayer, context: Context, call: IdempotentCall, work: () => Promise<Response>): Promise<Response> {
  idempotencyConfig ??= new IdempotencyConfig({
    eventKeyJmesPath: '[scope, key]',
    payloadValidationJmesPath: 'body',
    expiresAfterSeconds: 24 * 60 * 60,
  });
  // Lets an in-progress record expire with the invocation if the function dies mid-request.
  idempotencyConfig.registerLambdaContext(context);
  let runner = idempotentRunners.get(store);
  if (!runner) {
    runner = makeIdempotent(async (_call: IdempotentCall, run: () => Promise<Response>) => run(), {
      persistenceStore: store,
      config: idempotencyConfig,
      dataIndexArgument: 0,
    });
    idempotentRunners.set(store, runner);
  }
  for (let attempt = 1; ; attempt++) {
    try {
      return await runner(call, work);
    } catch (error) {
      if (error instanceof IdempotencyValidationError) {
        throw new ConflictError('This Idempotency-Key was already used with a different request body; use a new key', 'IDEMPOTENCY_KEY_REUSED');
      }
      if (!(error instanceof IdempotencyAlreadyInProgressError)) throw error;
      if (attempt >= DUPLICATE_WAIT_ATTEMPTS) {
        throw new ConflictError('A request with this Idempotency-Key is still in progress; retry in a moment', 'IDEMPOTENCY_IN_PROGRESS');
      }
      await new Promise((resolve) => setTimeout(resolve, DUPLICATE_WAIT_MS));
    }
  }
}
