import { ValidationError } from '../domain/errors.ts';
import type { ProviderFactory } from '../ports/providers.ts';

/**
 * Builds the cloud adapters from an account's opened credentials; the one place that knows them
 * all. Each adapter is imported on first use, so a function evaluates a cloud's SDK only when it
 * acts on an account of that cloud (the EC2 client alone is over half a megabyte).
 */
export const cloudProviderFactory: ProviderFactory = async (provider, { region, credentials }) => {
  // HANGAR_DEPLOYMENT (set per stage by the CDK app; optional locally) marks and scopes machines.
  const deployment = process.env.HANGAR_DEPLOYMENT || undefined;
  switch (provider) {
    case 'AWS': {
      const { Ec2Provider } = await import('../adapters/aws/ec2-provider.ts');
      // `{}` means the function's own role (the SDK's default chain).
      return new Ec2Provider({ region, deployment, credentials: Object.keys(credentials).length ? (credentials as never) : undefined });
    }
    case 'OPENSTACK': {
      const { OpenStackProvider, toOpenStackCredentials } = await import('../adapters/openstack/openstack-provider.ts');
      return new OpenStackProvider({ region, deployment, credentials: toOpenStackCredentials(credentials) });
    }
    case 'AZURE': {
      const { AzureProvider } = await import('../adapters/azure/azure-provider.ts');
      return new AzureProvider({ region, deployment, credentials });
    }
    default:
      throw new ValidationError(`Provider ${provider} is not available in this deployment`, [{ path: 'provider', message: 'not available' }], 'PROVIDER_NOT_AVAILABLE');
  }
};
