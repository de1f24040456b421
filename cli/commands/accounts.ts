import { readFileSync } from 'node:fs';
import { type Command, Option } from 'commander';
import { type Context, withContext } from '../context.ts';
import { CliError } from '../errors.ts';
import { present, printJson, printKeyValues } from '../format.ts';
import { type CliIO, writeLine } from '../io.ts';

interface CreateAccountOptions {
  provider: string;
  credentials: string;
  region?: string;
  client?: string;
}

interface AccountView {
  id: string;
  provider: string;
  name: string;
  region: string;
  credentialKeys: string[];
  lastTestResult?: { ok: boolean; message: string };
}

export function registerCreateAccount(create: Command, io: CliIO): void {
  create
    .command('account')
    .summary('Register a provider account (tested before it is stored)')
    .description(
      'Register a cloud account. The credentials are a JSON file (or - for standard input) in the cloud\'s own form, e.g. AZURE ' +
        '{"tenantId","clientId","clientSecret","subscriptionId","resourceGroup"}; they are tested, stored encrypted, and never shown again.',
    )
    .argument('<name>', 'what to call the account')
    .addOption(new Option('--provider <name>', 'the cloud').choices(['AWS', 'OPENSTACK', 'AZURE']).makeOptionMandatory())
    .requiredOption('--credentials <file>', 'a JSON file with the credentials, or - to read them from standard input')
    .option('--region <r>', "the provider's region (the server defaults to us-east-1, RegionOne or eastus)")
    .option('--client <clientId>', 'register it for this client (platform admin only)')
    .action(withContext(io, createAccount));
}

async function createAccount(ctx: Context, o: CreateAccountOptions, name: string): Promise<void> {
  let credentials: unknown;
  try {
    credentials = JSON.parse(readFileSync(o.credentials === '-' ? 0 : o.credentials, 'utf8'));
  } catch (error) {
    throw new CliError(`Cannot read credentials from ${o.credentials === '-' ? 'standard input' : o.credentials}: ${error instanceof Error ? error.message : String(error)}`);
  }
  const body: Record<string, unknown> = { provider: o.provider, name, credentials };
  if (o.region) body.region = o.region;
  if (o.client) body.clientId = o.client;
  const created = await ctx.client.post<{ account: AccountView }>('/api/accounts', body);
  if (ctx.json) return printJson(ctx.stdout, created);
  const { account } = created;
  printKeyValues(ctx.stdout, [
    ['id', account.id],
    ['provider', account.provider],
    ['region', account.region],
    ['credentials', present(account.credentialKeys.join(', '))],
  ]);
  writeLine(ctx.stdout, `Use it with: hangar create instance <name> --provider ${account.provider} --account ${account.id}`);
}
