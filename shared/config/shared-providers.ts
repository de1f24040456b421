import { DynamoExternalRegistrationRepository } from '../adapters/dynamodb/external-registration-repository.ts';
import { ExternalProvider } from '../adapters/external/external-provider.ts';
import type { Db } from '../db/db.ts';
import type { ComputeProvider } from '../ports/compute-provider.ts';

/**
 * The providers a deployed function that acts on instances has without an account: EXTERNAL,
 * its registrations in the table, so the function that registers an endpoint, the ones that
 * check it and the one that forgets it all see the same registrations. (LOCAL runs processes on
 * the machine it runs on, so only the local runtime has it.)
 */
export function deployedSharedProviders(db: Db): ComputeProvider[] {
  // Only public addresses: a tenant's endpoint must never make a function probe inside AWS.
  return [new ExternalProvider({ registrations: new DynamoExternalRegistrationRepository(db), publicTargetsOnly: {} })];
}
