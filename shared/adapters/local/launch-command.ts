import type { LocalImage } from './images.ts';

/** Everything that shapes a workload's process; built from the launch spec and machine.json. */
export interface LaunchInputs {
  instanceId: string;
  clientId: string;
  name: string;
  image: LocalImage;
  port: number;
  dataDir: string;
}

export interface LaunchCommand {
  command: string;
  args: string[];
  env: Record<string, string>;
}

/**
 * The argument that marks a process as Hangar's machine for `instanceId`. It shows in
 * /proc/<pid>/cmdline, which is how a recorded pid is told apart from a reused one.
 */
export function instanceMarker(instanceId: string): string {
  return `--hangar-instance=${instanceId}`;
}

/** The one place a workload's arguments and environment are decided. */
export function buildLaunchCommand(inputs: LaunchInputs): LaunchCommand {
  // A clean environment, not a copy of ours: the runtime's secrets (API keys, cloud
  // credentials) and loader flags (NODE_OPTIONS) must not leak into tenant workloads.
  const env: Record<string, string> = {
    PORT: String(inputs.port),
    DATA_DIR: inputs.dataDir,
    HANGAR_INSTANCE_ID: inputs.instanceId,
    HANGAR_INSTANCE_NAME: inputs.name,
    HANGAR_CLIENT_ID: inputs.clientId,
  };
  for (const inherited of ['PATH', 'LANG', 'TZ', 'TMPDIR', 'SYSTEMROOT']) {
    const value = process.env[inherited];
    if (value !== undefined) env[inherited] = value;
  }
  return {
    command: inputs.image.command,
    args: [...inputs.image.args, instanceMarker(inputs.instanceId)],
    env,
  };
}
