/**
 * Vitest globalSetup: one in-memory DynamoDB Local for the whole run. Tests reach it through
 * `inject('dynamoEndpoint')` (see ./dynamodb.ts) and create their own uniquely named tables.
 */
import type { TestProject } from 'vitest/node';
import { startDynamoDbLocal } from '../../infra/local/dynamodb-local.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    dynamoEndpoint: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const lines: string[] = [];
  const startedAt = Date.now();
  const dynamo = await startDynamoDbLocal({
    log: (line) => {
      lines.push(line);
      if (process.env.HANGAR_DYNAMO_LOG) console.log(`[dynamodb-local] ${line}`);
    },
  });
  if (process.env.HANGAR_DYNAMO_LOG) {
    console.log(`[dynamodb-local] ready on ${dynamo.endpoint} in ${Date.now() - startedAt} ms`);
  }
  project.provide('dynamoEndpoint', dynamo.endpoint);
  return async () => {
    await dynamo.stop();
  };
}
