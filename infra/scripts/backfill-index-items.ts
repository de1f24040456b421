/**
 * Writes the index items an instance should have and may lack, for every instance of a table:
 * its facets (type, provider, user), one entry per tag, and its due entries (auto-terminate
 * deadline, idle stop), and removes due entries it should no longer have. Run it once on a table
 * that held instances before a release that added index items (tag and facet filters, the
 * sweeper's due index); until then those instances are missing from filtered lists and from the
 * sweeper's backstop (their one-time schedules still fire).
 *
 *   HANGAR_TABLE=hangar-prod npx tsx infra/scripts/backfill-index-items.ts [--cursor <c>] [--page-size 100]
 *
 * Uses the AWS credentials and region of the environment; HANGAR_DYNAMODB_ENDPOINT points it at
 * DynamoDB Local instead. Idempotent: run it again, or resume from the cursor it printed last.
 * Live traffic may go on meanwhile: each instance is written conditional on the version read.
 */
import { parseArgs } from 'node:util';
import { DynamoInstanceRepository } from '../../shared/adapters/dynamodb/instance-repository.ts';
import { createDb } from '../../shared/db/db.ts';
import { dynamoDbClientConfig } from '../local/dynamodb-local.ts';

const tableName = process.env.HANGAR_TABLE;
if (!tableName) {
  console.error('HANGAR_TABLE is not set: give the table name (the TableName output of Hangar-<stage>-Stateful).');
  process.exit(1);
}
const { values } = parseArgs({ options: { cursor: { type: 'string' }, 'page-size': { type: 'string' } } });
const pageSize = values['page-size'] ? Number(values['page-size']) : 100;
if (!Number.isInteger(pageSize) || pageSize < 1) {
  console.error('--page-size must be a positive whole number');
  process.exit(1);
}

const endpoint = process.env.HANGAR_DYNAMODB_ENDPOINT;
const db = createDb({ tableName, ...(endpoint ? { clientConfig: dynamoDbClientConfig(endpoint) } : {}) });
const done = await new DynamoInstanceRepository(db).backfillIndexItems({
  pageSize,
  cursor: values.cursor ?? null,
  onPage: ({ instances, cursor }) => console.log(`${instances} instance(s) done${cursor ? `; to resume: --cursor ${cursor}` : ''}`),
});
console.log(`Index items of ${done.instances} instance(s) in ${tableName} are complete (${done.retried} read again after a racing change).`);
db.client.destroy();
