import type { Command } from 'commander';
import { type Context, withContext, pollingFrom } from '../context.ts';
import { money, printJson, printKeyValues, timestamp } from '../format.ts';
import { type CliIO, writeLine } from '../io.ts';
import { positiveNumber } from '../options.ts';
import type { InstanceResponse } from '../types.ts';
import { waitForStatus } from '../wait.ts';

interface DeleteOptions {
  wait?: boolean;
  timeout: number;
}

/** `delete instance <id>`; registered under `terminate` as well (same command, other verb). */
export function registerDeleteInstance(group: Command, io: CliIO): void {
  group
    .command('instance')
    .summary('Terminate an instance (--wait to follow it to TERMINATED)')
    .description('Terminate an instance (--wait follows it to TERMINATED)')
    .argument('<id>', 'instance id')
    .option('--wait', 'wait until it is TERMINATED, showing each step as it happens')
    .option('--timeout <seconds>', 'with --wait: give up after this many seconds', positiveNumber('--timeout'), 300)
    .action(withContext(io, deleteInstance));
}

async function deleteInstance(ctx: Context, options: DeleteOptions, id: string): Promise<void> {
  const path = `/api/instances/${encodeURIComponent(id)}`;
  const accepted = await ctx.client.delete<InstanceResponse>(path);

  if (!options.wait) {
    if (ctx.json) return printJson(ctx.stdout, accepted);
    writeLine(ctx.stdout, `Terminating ${accepted.instance.id} (${accepted.instance.status})`);
    return;
  }

  if (!ctx.json) writeLine(ctx.stdout, `Terminating ${accepted.instance.id} (${accepted.instance.status})`);
  const { payload } = await waitForStatus({
    ...pollingFrom(ctx),
    id,
    until: ['TERMINATED'],
    failOn: ['ERROR'],
    initial: accepted.instance,
    goneIsSuccess: true,
    // What the termination caused, not the instance's whole history.
    eventsSince: accepted.instance.updatedAt,
    timeoutMs: options.timeout * 1000,
  });
  if (ctx.json) return printJson(ctx.stdout, payload ?? { success: true, id, gone: true });
  if (!payload) return writeLine(ctx.stdout, `Instance ${id} is gone`);
  const i = payload.instance;
  writeLine(ctx.stdout, `Instance ${i.id} is ${i.status}`);
  printKeyValues(ctx.stdout, [
    ['terminatedAt', i.terminatedAt ? timestamp(i.terminatedAt) : undefined],
    ['totalCost', i.totalCost != null ? money(i.totalCost) : undefined],
  ]);
}
