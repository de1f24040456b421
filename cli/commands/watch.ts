import type { Command } from 'commander';
import { type Context, withContext } from '../context.ts';
import { CliError } from '../errors.ts';
import { timestamp } from '../format.ts';
import { type CliIO, writeLine } from '../io.ts';
import { positiveNumber } from '../options.ts';
import type { InstanceResponse } from '../types.ts';

/** States after which nothing more will happen to an instance on its own. */
export const WATCH_FINAL = ['TERMINATED', 'ERROR'] as const;

interface WatchOptions {
  interval: number;
}

export function registerWatch(program: Command, io: CliIO): void {
  program
    .command('watch')
    .summary('Follow status changes until TERMINATED or ERROR')
    .description('Print each status change of an instance until TERMINATED or ERROR (Ctrl-C to stop)')
    .argument('<id>', 'instance id')
    .option('--interval <seconds>', 'poll period', positiveNumber('--interval'), 1)
    .addHelpText('after', '\nExits 0 when the instance is TERMINATED and 1 when it is in ERROR.')
    .action(withContext(io, watch));
}

async function watch(ctx: Context, options: WatchOptions, id: string): Promise<void> {
  const path = `/api/instances/${encodeURIComponent(id)}`;
  let last: string | undefined;
  for (;;) {
    const payload = await ctx.client.get<InstanceResponse>(path);
    const instance = payload.instance;
    if (instance.status !== last) {
      last = instance.status;
      if (ctx.json) {
        writeLine(ctx.stdout, JSON.stringify(payload));
      } else {
        const detail = instance.status === 'ERROR' && instance.errorMessage ? `  ${instance.errorMessage}` : '';
        writeLine(ctx.stdout, `${timestamp(ctx.now().toISOString())}  ${instance.id}  ${instance.status}${detail}`);
      }
    }
    if (instance.status === 'ERROR') {
      throw new CliError(`Instance ${instance.id} is in ERROR${instance.errorMessage ? `: ${instance.errorMessage}` : ''}`);
    }
    if ((WATCH_FINAL as readonly string[]).includes(instance.status)) return;
    await ctx.sleep(options.interval * 1000);
  }
}
