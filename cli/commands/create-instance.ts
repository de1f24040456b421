import type { Command } from 'commander';
import { type Context, withContext, pollingFrom } from '../context.ts';
import { present, printJson, printKeyValues } from '../format.ts';
import { type CliIO, writeLine } from '../io.ts';
import { collectTag, positiveNumber, upper, wholeNumber } from '../options.ts';
import type { InstanceResponse } from '../types.ts';
import { waitForStatus } from '../wait.ts';
import { instanceDetails } from './instance-status.ts';

export interface CreateInstanceOptions {
  cpu?: number;
  memory?: number;
  disk?: number;
  provider?: string;
  instanceType?: string;
  region?: string;
  image?: string;
  account?: string;
  network?: string[];
  keyPair?: string;
  securityGroup?: string[];
  endpoint?: string;
  autoTerminate?: number;
  tag?: Record<string, string>;
  client?: string;
  task?: string;
  purpose?: string;
  billingCycle?: string;
  wait?: boolean;
  timeout: number;
}

/** Statuses that end a `create instance --wait` successfully, and those that end it in failure. */
export const CREATE_DONE = ['READY', 'RUNNING'] as const;
export const CREATE_FAILED = ['ERROR', 'TERMINATING', 'TERMINATED'] as const;

export function registerCreateInstance(create: Command, io: CliIO): void {
  const command = create
    .command('instance')
    .summary('Provision an instance (--wait to follow it to READY)')
    .description('Provision an instance (answers at once with a PENDING instance; --wait follows it to READY)')
    .argument('<name>', 'a name; the id is made from it, e.g. web-server → vps-web-server-abc123')
    .argument('[type]', 'what you call it: any kebab word such as vps, gpu, database, container (the server defaults to vps)')
    .option('--wait', 'wait until it is READY (or RUNNING), showing each step as it happens')
    .option('--timeout <seconds>', 'with --wait: give up after this many seconds', positiveNumber('--timeout'), 300);
  addCreateOptions(command).action(withContext(io, createInstance));
}

/** The options that make a create body: `create instance` and `estimate` take the same ones. */
export function addCreateOptions(command: Command): Command {
  return command
    .option('--cpu <n>', 'vCPUs', wholeNumber('--cpu', 1))
    .option('--memory <gib>', 'memory in GiB', positiveNumber('--memory'))
    .option('--disk <gb>', 'disk in GB (sent as resources.disk and config.diskSizeGB)', wholeNumber('--disk', 1))
    .option('--provider <name>', 'LOCAL | AWS | OPENSTACK | AZURE | EXTERNAL (the server defaults to LOCAL)', upper)
    .option('--instance-type <t>', 'flavor or instance type, e.g. t3.micro')
    .option('--region <r>', 'provider region')
    .option('--image <i>', 'image name or provider id')
    .option('--account <accountId>', 'the provider account to use (AWS, OPENSTACK, AZURE)')
    .option('--network <name>', 'a network or subnet, by name or id (repeatable)', collectList, [])
    .option('--key-pair <name>', 'the key pair to install')
    .option('--security-group <name>', 'a security group (repeatable)', collectList, [])
    .option('--endpoint <url>', 'EXTERNAL: the URL or host:port to register')
    .option('--auto-terminate <minutes>', 'terminate automatically after this many minutes', wholeNumber('--auto-terminate', 1))
    .option('--tag <key=value>', 'a tag (repeatable)', collectTag)
    .option('--client <clientId>', 'create it for this client (platform admin only)')
    .option('--task <taskId>', 'the task this instance is for')
    .option('--purpose <text>', 'why it exists')
    .option('--billing-cycle <cycle>', 'hourly (default) or monthly: accrues hourly, capped at the monthly price per calendar month');
}

/** The POST /api/instances body, with every field the user did not give left out. */
export function createInstanceBody(
  name: string,
  type: string | undefined,
  o: Omit<CreateInstanceOptions, 'wait' | 'timeout'>,
): Record<string, unknown> {
  const resources = compact({ cpu: o.cpu, memory: o.memory, disk: o.disk });
  const config = compact({
    provider: o.provider,
    instanceType: o.instanceType,
    accountId: o.account,
    networks: o.network?.length ? o.network : undefined,
    keyPair: o.keyPair,
    securityGroups: o.securityGroup?.length ? o.securityGroup : undefined,
    endpoint: o.endpoint,
    region: o.region,
    image: o.image,
    diskSizeGB: o.disk,
    autoTerminateMinutes: o.autoTerminate,
    tags: o.tag,
    billingCycle: o.billingCycle,
  });
  return compact({
    name,
    type,
    clientId: o.client,
    taskId: o.task,
    purpose: o.purpose,
    resources: Object.keys(resources).length ? resources : undefined,
    config: Object.keys(config).length ? config : undefined,
  });
}

async function createInstance(
  ctx: Context,
  options: CreateInstanceOptions,
  name: string,
  type: string | undefined,
): Promise<void> {
  const created = await ctx.client.post<InstanceResponse>('/api/instances', createInstanceBody(name, type, options));
  const instance = created.instance;

  if (!options.wait) {
    if (ctx.json) return printJson(ctx.stdout, created);
    printKeyValues(ctx.stdout, [
      ['id', instance.id],
      ['status', instance.status],
      ['provider', present(instance.provider)],
      ['instanceType', present(instance.instanceType)],
    ]);
    writeLine(ctx.stdout, `Follow it with: hangar watch ${instance.id}`);
    return;
  }

  if (!ctx.json) writeLine(ctx.stdout, `Created ${instance.id} (${instance.status})`);
  const { payload } = await waitForStatus({
    ...pollingFrom(ctx),
    id: instance.id,
    until: CREATE_DONE,
    failOn: CREATE_FAILED,
    initial: instance,
    timeoutMs: options.timeout * 1000,
  });
  const final = payload ?? created;
  if (ctx.json) return printJson(ctx.stdout, final);
  writeLine(ctx.stdout, `Instance ${final.instance.id} is ${final.instance.status}`);
  printKeyValues(ctx.stdout, instanceDetails(final.instance));
}

function compact<T extends Record<string, unknown>>(record: T): Partial<T> {
  return Object.fromEntries(Object.entries(record).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function collectList(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}
