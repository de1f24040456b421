import { readFileSync, realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError, Option } from 'commander';
import { registerCreateAccount } from './commands/accounts.ts';
import { registerBusiness } from './commands/business.ts';
import { registerCatalog } from './commands/catalog.ts';
import { registerCreateApiKey, registerCreateClient, registerListClients } from './commands/clients.ts';
import { registerCreateInstance } from './commands/create-instance.ts';
import { registerDeleteInstance } from './commands/delete-instance.ts';
import {
  registerExtendInstance,
  registerKillInstance,
  registerRebootInstance,
  registerStartInstance,
  registerStopInstance,
  registerTaskCommands,
} from './commands/instance-actions.ts';
import { registerInstanceCommands } from './commands/instance-status.ts';
import { registerListInstances } from './commands/list-instances.ts';
import { registerStats } from './commands/stats.ts';
import { registerSync, registerSyncJobs } from './commands/sync.ts';
import { registerWatch } from './commands/watch.ts';
import { registerWebhooks } from './commands/webhooks.ts';
import { DEFAULT_URL } from './context.ts';
import { ApiError, CliError } from './errors.ts';
import { type CliIO, writeLine } from './io.ts';

export type { CliIO } from './io.ts';

const VERSION = readVersion();

/**
 * The `hangar` program. A fresh one per run: commander keeps parsed option values on the
 * command objects. Output goes to `io.stdout`/`io.stderr`; nothing here calls process.exit.
 */
export function buildProgram(io: CliIO): Command {
  const program = new Command('hangar')
    .description('Control Hangar compute instances through its HTTPS JSON API')
    .version(VERSION, '-V, --version')
    .addOption(new Option('--url <url>', `Hangar API base URL (default: $HANGAR_URL or ${DEFAULT_URL})`))
    .addOption(new Option('--api-key <key>', 'API key (default: $HANGAR_API_KEY)'))
    .option('--json', 'print the raw JSON payload instead of human output')
    .exitOverride()
    .showSuggestionAfterError()
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
    });

  const create = program.command('create').description('Create an instance, a client or an API key');
  registerCreateInstance(create, io);
  registerCreateClient(create, io);
  registerCreateApiKey(create, io);
  registerCreateAccount(create, io);

  const list = program.command('list').description('List instances or clients');
  registerListInstances(list, io);
  registerListClients(list, io);

  const instance = program.command('instance').description("Look at one instance: its status or its event log");
  registerInstanceCommands(instance, io);

  registerDeleteInstance(program.command('delete').description('Terminate an instance'), io);
  registerDeleteInstance(program.command('terminate').description('Terminate an instance (same as delete)'), io);

  registerStopInstance(program.command('stop').description('Stop an instance (--force: kill it)'), io);
  registerKillInstance(program.command('kill').description('Force-stop an instance'), io);
  registerStartInstance(program.command('start').description('Start a stopped instance'), io);
  registerRebootInstance(program.command('reboot').description('Reboot an instance'), io);
  registerRebootInstance(program.command('restart').description('Reboot an instance (same as reboot)'), io);
  registerExtendInstance(program.command('extend').description("Push back an instance's auto-terminate deadline"), io);
  registerTaskCommands(program.command('task').description('Mark a task as running on an instance, or finished'), io);

  registerStats(program, io);
  registerBusiness(program, io);
  registerWatch(program, io);
  registerSync(program, io);
  registerSyncJobs(program, io);
  registerCatalog(program, io);
  registerWebhooks(program, io);

  program.addHelpText('after', () => `\nAll commands:\n${commandSummary(program)}\n\n${EXAMPLES}`);
  return program;
}

const EXAMPLES = `Examples:
  hangar create instance web-server vps --cpu 2 --memory 4 --disk 40 --wait
  hangar list instances --status READY --all
  hangar instance status vps-web-server-abc123
  hangar stop instance vps-web-server-abc123 --wait
  hangar start instance vps-web-server-abc123 --wait
  hangar reboot instance vps-web-server-abc123 --hard
  hangar extend instance vps-web-server-abc123 --minutes 30
  hangar task start vps-web-server-abc123 task-456
  hangar task finish vps-web-server-abc123
  hangar delete instance vps-web-server-abc123 --wait
  hangar --json stats
  hangar create account lab --provider AZURE --credentials azure-sp.json
  hangar create instance trainer gpu --provider AZURE --account acc-123 --instance-type Standard_NC4as_T4_v3 --wait
  hangar sync --account acc-123 --types flavors,images --wait
  hangar sync-jobs --type instances
  hangar catalog flavors --local
  hangar webhooks create https://hooks.example.com/hangar --events instance.ready,instance.terminated
  hangar webhooks deliveries wh-abc123def456`;

/** Every leaf command with its arguments, e.g. `create instance <name> [type]`, aligned. */
export function commandSummary(program: Command): string {
  const rows: Array<[string, string]> = [];
  const walk = (cmd: Command, prefix: string) => {
    for (const sub of cmd.commands) {
      const path = `${prefix}${sub.name()}`;
      if (sub.commands.length > 0) {
        walk(sub, `${path} `);
        continue;
      }
      const args = sub.registeredArguments.map((a) => (a.required ? `<${a.name()}>` : `[${a.name()}]`));
      rows.push([[path, ...args].join(' '), sub.summary() || sub.description()]);
    }
  };
  walk(program, '');
  const width = Math.max(...rows.map(([usage]) => usage.length));
  return rows.map(([usage, description]) => `  ${usage.padEnd(width)}  ${description}`).join('\n');
}

/** Parse and run one command line; resolves to the process exit code. */
export async function run(argv: readonly string[], io: CliIO): Promise<number> {
  const program = buildProgram(io);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode;
    if (error instanceof CliError) {
      writeLine(io.stderr, error instanceof ApiError ? error.message : `Error: ${error.message}`);
      for (const line of error.lines) writeLine(io.stderr, `  ${line}`);
      return error.exitCode;
    }
    writeLine(io.stderr, `Error: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  }
}

/** The real process: argv, stdio and environment. */
export async function main(argv: readonly string[] = process.argv.slice(2)): Promise<void> {
  process.exitCode = await run(argv, { stdout: process.stdout, stderr: process.stderr, env: process.env });
}

function readVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version?: string };
    return pkg.version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}

function invokedDirectly(): boolean {
  const script = process.argv[1];
  if (!script) return false;
  try {
    return realpathSync(script) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

// `tsx cli/main.ts …` (npm run hangar): run. Imported (by bin.js or tests): do nothing.
if (invokedDirectly()) await main();
