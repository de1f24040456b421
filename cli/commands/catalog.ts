import { Argument, type Command, InvalidArgumentError, Option } from 'commander';
import { type Context, withContext } from '../context.ts';
import { CliError } from '../errors.ts';
import { type Column, bytes, money, printJson, printTable, text, timestamp } from '../format.ts';
import { type CliIO, writeLine } from '../io.ts';
import type { CatalogItemView, CatalogPage } from '../types.ts';
import { collectPages } from './pages.ts';

/**
 * `catalog <kind>`: GET /api/catalog/{kind}, the copy the periodic sync keeps in the table (what
 * a create is checked against), or with --live the provider read now. Every page is read: a
 * catalog is a reference list, and the table is only useful whole.
 */

/** The URL segment of each kind and the key its items come under in the answer. */
const KINDS: Record<string, string> = {
  flavors: 'flavors',
  'instance-types': 'flavors',
  images: 'images',
  networks: 'networks',
  subnets: 'subnets',
  'security-groups': 'securityGroups',
  'key-pairs': 'keyPairs',
};

interface CatalogOptions {
  account?: string;
  local?: boolean;
  region?: string;
  live?: boolean;
  all?: boolean;
}

/** A kind as the URL spells it; the camelCase of the API's answers is accepted too. */
export function catalogKind(value: string): string {
  const kebab = value.trim().replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
  if (!Object.hasOwn(KINDS, kebab)) {
    throw new InvalidArgumentError(`expected one of ${Object.keys(KINDS).join(', ')}.`);
  }
  return kebab;
}

export function registerCatalog(program: Command, io: CliIO): void {
  program
    .command('catalog')
    .summary('Show a catalog: flavors, images, networks, subnets, security groups, key pairs')
    .description(
      "Show an account's (or LOCAL's) catalog as last synced (--live: read the provider now), with prices and key attributes",
    )
    .addArgument(new Argument('<kind>', Object.keys(KINDS).join(' | ')).argParser(catalogKind))
    .option('--account <accountId>', "this provider account's catalog")
    .addOption(new Option('--local', "the LOCAL provider's catalog").conflicts('account'))
    .option('--region <r>', "with --account: a region other than the account's own")
    .option('--live', 'read the provider now instead of the synced copy')
    .option('--all', 'include items gone from the provider (marked in the DELETED column)')
    .action(withContext(io, showCatalog));
}

async function showCatalog(ctx: Context, o: CatalogOptions, kind: string): Promise<void> {
  if (!o.account && !o.local) {
    throw new CliError('Say whose catalog: --account <accountId> or --local.');
  }
  const query = {
    accountId: o.account,
    provider: o.local ? 'LOCAL' : undefined,
    region: o.region,
    source: o.live ? 'live' : undefined,
    includeDeleted: o.all ? 'true' : undefined,
  };
  const path = `/api/catalog/${kind}`;
  const pages = await collectPages<CatalogPage>((cursor) => ctx.client.get<CatalogPage>(path, { ...query, cursor }), {
    all: true,
  });
  const key = KINDS[kind]!;
  const items = pages.flatMap((p) => itemsOf(p, key));
  const first = pages[0]!;
  if (ctx.json) {
    return printJson(
      ctx.stdout,
      pages.length === 1 ? first : { ...first, [key]: items, count: items.length, nextCursor: null },
    );
  }

  if (items.length === 0) writeLine(ctx.stdout, `No ${kind.replace(/-/g, ' ')}.`);
  else printTable(ctx.stdout, columnsFor(key, items), items);
  writeLine(ctx.stdout, '');
  if (first.source === 'live') {
    writeLine(ctx.stdout, 'Read live from the provider.');
  } else if (first.syncedAt) {
    writeLine(ctx.stdout, `Synced copy, last synced ${timestamp(first.syncedAt)}.`);
  } else {
    const target = o.account ? `--account ${o.account}${o.region ? ` --region ${o.region}` : ''}` : '--local';
    writeLine(ctx.stdout, `Synced copy: not synced yet. Sync it with: hangar sync ${target} --types ${key} --wait`);
  }
}

/** The items under the kind's key; an answer that names them otherwise still shows. */
function itemsOf(page: CatalogPage, key: string): CatalogItemView[] {
  const under = page[key];
  if (Array.isArray(under)) return under as CatalogItemView[];
  const any = Object.values(page).find(Array.isArray);
  return (any ?? []) as CatalogItemView[];
}

const attr = (name: string) => (item: CatalogItemView) => item.attributes?.[name];
const shown = (get: (item: CatalogItemView) => unknown) => (item: CatalogItemView) => text(get(item));

/** Exact micros when the server sends them: an hourly price is often finer than a cent. */
function price(item: CatalogItemView): string {
  if (typeof item.pricePerHourMicros === 'number') return money(item.pricePerHourMicros / 1_000_000);
  return money(item.pricePerHour);
}

/** Images: Glance's size in bytes, else EC2's root volume in GB. */
function imageSize(item: CatalogItemView): string {
  const sizeBytes = attr('sizeBytes')(item);
  if (typeof sizeBytes === 'number') return bytes(sizeBytes);
  const diskGB = attr('diskGB')(item);
  return typeof diskGB === 'number' ? `${diskGB} GB` : '-';
}

function imageOs(item: CatalogItemView): string {
  const distro = [attr('osDistro')(item), attr('osVersion')(item)].filter((v) => v != null && v !== '').join(' ');
  return text(distro || attr('platform')(item));
}

/** What identifies each kind at a glance; the rest is in --json. */
const KIND_COLUMNS: Record<string, readonly Column<CatalogItemView>[]> = {
  flavors: [
    { header: 'VCPUS', value: shown(attr('vcpus')), align: 'right' },
    { header: 'MEMORY MIB', value: shown(attr('memoryMiB')), align: 'right' },
    { header: 'DISK GB', value: shown(attr('diskGB')), align: 'right' },
    { header: 'GPUS', value: shown(attr('gpus')), align: 'right' },
    { header: 'PRICE/H', value: price, align: 'right' },
  ],
  images: [
    { header: 'STATUS', value: shown(attr('status')) },
    { header: 'SIZE', value: imageSize, align: 'right' },
    { header: 'OS', value: imageOs },
  ],
  networks: [
    { header: 'STATUS', value: shown(attr('status')) },
    { header: 'CIDR', value: shown(attr('cidr')) },
  ],
  subnets: [
    { header: 'CIDR', value: shown(attr('cidr')) },
    { header: 'NETWORK', value: shown(attr('networkId')) },
  ],
  securityGroups: [{ header: 'DESCRIPTION', value: shown(attr('description')) }],
  keyPairs: [
    { header: 'TYPE', value: shown((i) => attr('type')(i) ?? attr('keyType')(i)) },
    { header: 'FINGERPRINT', value: shown(attr('fingerprint')) },
  ],
};

/** ID, NAME, the kind's own columns, and DELETED when any item is gone from the provider. */
export function columnsFor(key: string, items: readonly CatalogItemView[]): Column<CatalogItemView>[] {
  const columns: Column<CatalogItemView>[] = [
    { header: 'ID', value: (i) => i.id },
    { header: 'NAME', value: (i) => i.name },
    ...(KIND_COLUMNS[key] ?? []),
  ];
  if (items.some((i) => i.deletedAt)) {
    columns.push({ header: 'DELETED', value: (i) => (i.deletedAt ? timestamp(i.deletedAt) : '') });
  }
  return columns;
}
