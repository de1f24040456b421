import type { ExternalRegistration, ExternalRegistrationRepository } from '../../ports/external-registration-repository.ts';

/** EXTERNAL registrations in a Map, with the table's first-one-wins rule. */
export class MemoryExternalRegistrationRepository implements ExternalRegistrationRepository {
  private readonly items = new Map<string, ExternalRegistration>();

  async get(instanceId: string): Promise<ExternalRegistration | null> {
    const found = this.items.get(instanceId);
    return found ? structuredClone(found) : null;
  }

  async register(registration: ExternalRegistration): Promise<ExternalRegistration> {
    const first = this.items.get(registration.instanceId);
    if (first) return structuredClone(first);
    this.items.set(registration.instanceId, structuredClone(registration));
    return structuredClone(registration);
  }

  async remove(instanceId: string): Promise<void> {
    this.items.delete(instanceId);
  }

  async list(): Promise<ExternalRegistration[]> {
    return [...this.items.values()].sort((a, b) => a.instanceId.localeCompare(b.instanceId)).map((r) => structuredClone(r));
  }
}
