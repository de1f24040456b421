/** One endpoint Hangar registered as EXTERNAL: everything needed to check it again and to describe it. */
export interface ExternalRegistration {
  instanceId: string;
  providerInstanceId: string;
  endpoint: string;
  healthPath?: string;
  clientId: string;
  name: string;
  region: string;
  tags: Record<string, string>;
  registeredAt: string;
}

/**
 * Where EXTERNAL registrations live: in the table (every deployment, so the functions that
 * launch, check and forget an endpoint all see the same ones), or in memory for tests.
 */
export interface ExternalRegistrationRepository {
  get(instanceId: string): Promise<ExternalRegistration | null>;
  /**
   * Record the registration unless its instance id has one already; answers the one kept, so a
   * concurrent or retried launch of the same instance agrees on the first.
   */
  register(registration: ExternalRegistration): Promise<ExternalRegistration>;
  /** Forget the instance's registration; nothing to do when there is none. */
  remove(instanceId: string): Promise<void>;
  /** Every registration (what listOwned reports): one Query, never a Scan. */
  list(): Promise<ExternalRegistration[]>;
}
