import { DynamoExternalRegistrationRepository } from '../adapters/dynamodb/external-registration-repository.ts';
import { ExternalProvider } from '../adapters/external/external-provider.ts';
import { tableFromEnvironment, type Db } from '../db/db.ts';
import { secretBoxOnFirstUse } from './on-first-use/secret-box.ts';
import { cloudProviderFactory } from './cloud-providers.ts';
import type { Pieces } from './composition.ts';
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

/**
 * What every deployed function that acts on instances' machines composes: the table, EXTERNAL,
 * and the clouds, built per account from credentials the KMS secret box opens.
 */
export function deployedMachinePieces(): Pick<Pieces, 'db' | 'providers' | 'providerFactory' | 'secretBox'> {
  const db = tableFromEnvironment();
  return { db, providers: deployedSharedProviders(db), providerFactory: cloudProviderFactory, secretBox: secretBoxOnFirstUse() };
}
