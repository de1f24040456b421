import type { ProviderName } from '../domain/catalog.ts';
import { ValidationError } from '../domain/errors.ts';
import type { ComputeProvider } from './compute-provider.ts';

/** The providers this deployment can drive, by name. */
export class ProviderRegistry {
  private readonly byName = new Map<ProviderName, ComputeProvider>();

  constructor(providers: ComputeProvider[]) {
    for (const provider of providers) this.byName.set(provider.name, provider);
  }

  get(name: ProviderName): ComputeProvider {
    const provider = this.byName.get(name);
    if (!provider) {
      throw new ValidationError(
        `Provider '${name}' is not available in this deployment; available: ${[...this.byName.keys()].join(', ') || 'none'}`,
        [{ path: 'config.provider', message: 'not available' }],
        'PROVIDER_NOT_AVAILABLE',
      );
    }
    return provider;
  }

  names(): ProviderName[] {
    return [...this.byName.keys()];
  }
}
