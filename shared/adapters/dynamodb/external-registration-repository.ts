import type { Db } from '../../db/db.ts';
import { isConditionFailure } from '../../db/transactions.ts';
import type { ExternalRegistration, ExternalRegistrationRepository } from '../../ports/external-registration-repository.ts';

/** EXTERNAL registrations in the table (shared/db/external-entities.ts). */
export class DynamoExternalRegistrationRepository implements ExternalRegistrationRepository {
  constructor(private readonly db: Db) {}

  private async entities() {
    return (await this.db.entities()).external;
  }

  async get(instanceId: string): Promise<ExternalRegistration | null> {
    const { data } = await (await this.entities()).registration.get({ instanceId }).go({ consistent: true });
    return data ? registrationOf(data) : null;
  }

  async register(registration: ExternalRegistration): Promise<ExternalRegistration> {
    try {
      await (await this.entities()).registration.create({ ...registration, version: 1 }).go();
      return registration;
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      // Another launch of the same instance registered first: its registration stands.
      const first = await this.get(registration.instanceId);
      if (!first) throw error;
      return first;
    }
  }

  async remove(instanceId: string): Promise<void> {
    await (await this.entities()).registration.delete({ instanceId }).go();
  }

  async list(): Promise<ExternalRegistration[]> {
    const { data } = await (await this.entities()).registration.query.all({}).go({ pages: 'all' });
    return data.map(registrationOf);
  }
}

/** The stored item without the table's own attributes. */
function registrationOf(item: Record<string, unknown>): ExternalRegistration {
  const { entityType: _type, version: _version, ...rest } = item;
  return rest as unknown as ExternalRegistration;
}
