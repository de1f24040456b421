/** Read configuration once; a missing variable fails with its name, not with an undefined later. */
export function requireEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`Environment variable ${name} is required but not set`);
  return value;
}
