/** Read configuration once; a missing variable fails with its name, not with an undefined later. */
export function requireEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`Environment variable ${name} is required but not set`);
  return value;
}

/** Minutes before a deadline that its warning is written, when the stage sets it. */
export const deadlineWarningMinutesFromEnvironment = (): number | undefined =>
  process.env.DEADLINE_WARNING_MINUTES ? Number(process.env.DEADLINE_WARNING_MINUTES) : undefined;

/**
 * Whether an AWS create without accountId may use the deployment's own role: the stage's
 * `allowDeploymentAwsAccount` (CDK context), or HANGAR_ALLOW_DEPLOYMENT_AWS_ACCOUNT=true locally.
 */
export const allowDeploymentAwsAccountFromEnvironment = (): boolean => process.env.HANGAR_ALLOW_DEPLOYMENT_AWS_ACCOUNT === 'true';
