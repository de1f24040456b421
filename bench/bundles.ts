/**
 * Cold-start figures per Lambda function: each handler is bundled exactly as the CDK app bundles
 * it (esbuild, ESM, minified, tree-shaken, SDK inside, cloud adapters split into chunks loaded on
 * first use), then its entry file is imported in a fresh Node process.
 * Import times are medians of interleaved runs, shown as a ratio to a bundle holding one bare
 * DynamoDB client — the least any function of ours can carry.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build, type Metafile } from 'esbuild';
import { BUNDLE_ENTRY_FILE, functionBundleOptions } from '../infra/constructs/function-bundle.ts';
import { fromRepoRoot, REPO_ROOT } from '../infra/paths.ts';
import { median, table } from './figures.ts';

const RUNS = Number(process.env.BENCH_RUNS ?? 20);
const REFERENCE = 'bench/reference/one-dynamodb-client.ts';

/** Exactly as the CDK app bundles it (infra/constructs/function-bundle.ts), into a directory of its own. */
async function bundle(entry: string, outdir: string) {
  const dir = join(outdir, entry.replace(/[/.]/g, '_'));
  const { metafile } = await build(functionBundleOptions(entry, dir));
  const outputs = Object.entries(metafile!.outputs).filter(([file]) => file.endsWith('.mjs'));
  const entryFile = outputs.find(([file]) => file.endsWith(`/${BUNDLE_ENTRY_FILE}`) && !file.includes('/chunks/'))![0];
  // What a cold start reads: the entry and every chunk it imports statically, transitively.
  const atStart = new Set<string>([entryFile]);
  for (const file of atStart) {
    for (const imported of metafile!.outputs[file]!.imports) if (imported.kind === 'import-statement' && !imported.external) atStart.add(imported.path);
  }
  const sum = (files: string[]) => files.reduce((total, file) => total + metafile!.outputs[file]!.bytes, 0);
  const lazy = outputs.map(([file]) => file).filter((file) => !atStart.has(file));
  return {
    outfile: resolve(entryFile),
    bytes: sum([...atStart]),
    lazyBytes: sum(lazy),
    clients: sdkClients(metafile!, [...atStart]),
    lazyClients: sdkClients(metafile!, lazy).filter((c) => !sdkClients(metafile!, [...atStart]).includes(c)),
  };
}

/** Which AWS SDK clients (and Azure packages) the given output files hold. */
function sdkClients(metafile: Metafile, files: string[]): string[] {
  const found = new Set<string>();
  for (const input of files.flatMap((file) => Object.keys(metafile.outputs[file]!.inputs))) {
    const match = /node_modules\/(@aws-sdk\/client-[a-z0-9-]+|@azure\/arm-[a-z0-9-]+)\//.exec(input);
    if (match) found.add(match[1]!.replace('@aws-sdk/client-', '').replace('@azure/', 'azure:'));
  }
  return [...found].sort();
}

/** Milliseconds to import the bundle in a fresh process (module evaluation included, no handler call). */
function importMs(file: string): number {
  const script = `const t = performance.now(); await import(${JSON.stringify(pathToFileURL(file).href)}); process.stdout.write(String(performance.now() - t));`;
  try {
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
      env: { PATH: process.env.PATH, AWS_REGION: 'us-east-1', NODE_NO_WARNINGS: '1' },
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return Number(out);
  } catch (error) {
    const firstLine = String((error as { stderr?: string }).stderr ?? error).split('\n').find((l) => /Error/.test(l)) ?? 'failed';
    throw new Error(`Importing ${file} failed: ${firstLine.slice(0, 300)}`);
  }
}

function functionEntries(): string[] {
  const entries: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (name.endsWith('.ts')) entries.push(relative(REPO_ROOT, path));
    }
  };
  walk(fromRepoRoot('functions'));
  return entries.sort();
}

export async function bundleFigures(): Promise<void> {
  const outdir = mkdtempSync(join(tmpdir(), 'hangar-bench-'));
  try {
    const entries = [REFERENCE, ...functionEntries()];
    const bundles = new Map<string, Awaited<ReturnType<typeof bundle>>>();
    for (const entry of entries) bundles.set(entry, await bundle(entry, outdir));
    const times = new Map<string, number[]>(entries.map((e) => [e, []]));
    // Interleaved: every round imports each bundle once, so machine noise hits all alike.
    for (let run = 0; run < RUNS; run++) for (const entry of entries) times.get(entry)!.push(importMs(bundles.get(entry)!.outfile));
    const reference = median(times.get(REFERENCE)!);
    console.log(`\nFunction bundles (import time: median of ${RUNS} interleaved fresh-process imports)\n`);
    table(
      ['function', 'KiB read at start', 'SDK clients at start', 'KiB loaded on use', 'SDK clients on use', 'import ms', 'vs one DynamoDB client'],
      entries.map((entry) => {
        const b = bundles.get(entry)!;
        const ms = median(times.get(entry)!);
        return [
          entry === REFERENCE ? 'reference: one DynamoDB client' : entry,
          (b.bytes / 1024).toFixed(0),
          b.clients.join(' ') || '—',
          (b.lazyBytes / 1024).toFixed(0),
          b.lazyClients.join(' ') || '—',
          ms.toFixed(1),
          `${(ms / reference).toFixed(2)}×`,
        ];
      }),
    );
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}
