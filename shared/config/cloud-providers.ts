import { Ec2Provider } from '../adapters/aws/ec2-provider.ts';
import { OpenStackProvider, toOpenStackCredentials } from '../adapters/openstack/openstack-provider.ts';
import { ValidationError } from '../domain/errors.ts';
import type { ProviderFactory } from '../ports/providers.ts';

/** Builds the cloud adapters from an account's opened credentials; the one place that knows them all. */
export const cloudProviderFactory: ProviderFactory = (provider, { region, credentials }) => {
  // HANGAR_DEPLOYMENT (set per stage by the CDK app; optional locally) marks and scopes machines.
  const deployment = process.env.HANGAR_DEPLOYMENT || undefined;
  switch (provider) {
    case 'AWS':
      // `{}` means the function's own role (the SDK's default chain).
      return new Ec2Provider({ region, deployment, credentials: Object.keys(credentials).length ? (credentials as never) : undefined });
    case 'OPENSTACK':
      return new OpenStackProvider({ region, deployment, credentials: toOpenStackCredentials(credentials) });
    default:
      throw new ValidationError(`Provider ${provider} is not available in this deployment`, [{ path: 'provider', message: 'not available' }], 'PROVIDER_NOT_AVAILABLE');
  }
};
