/**
 * Creates a platform-admin API key in a deployed stage's table and prints it once:
 *
 *   HANGAR_TABLE=hangar-prod npx tsx infra/scripts/create-admin-key.ts [name]
 *
 * Uses the AWS credentials and region of the environment (AWS_PROFILE, AWS_REGION…). Only the
 * key's SHA-256 is stored; the secret cannot be shown again. The record goes through the shared db
 * module, so it has exactly the shape the API's authentication reads.
 */
import { createDb } from '../../shared/db/db.ts';
import { DynamoClientRepository } from '../../shared/adapters/dynamodb/client-repository.ts';
import { PLATFORM_CLIENT_ID } from '../../shared/domain/roles.ts';
import { newId } from '../../shared/domain/ids.ts';
import { generateApiKey, hashApiKey } from '../../shared/http/auth.ts';

const tableName = process.env.HANGAR_TABLE;
if (!tableName) {
  console.error('HANGAR_TABLE is not set: give the table name (the TableName output of Hangar-<stage>-Stateful).');
  process.exit(1);
}

const key = generateApiKey();
const keyId = newId('key');
// A conditional put: fails rather than overwrite, should the hash ever exist.
await new DynamoClientRepository(createDb({ tableName })).putApiKey({
  keyHash: hashApiKey(key),
  keyId,
  clientId: PLATFORM_CLIENT_ID,
  name: process.argv[2] ?? 'platform admin',
  role: 'platform-admin',
  prefix: key.slice(0, 8),
  createdAt: new Date().toISOString(),
  version: 1,
});

console.log(`Platform-admin key ${keyId} created in ${tableName}. Store it now; it is not shown again:\n\n${key}\n`);
