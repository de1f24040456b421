/**
 * Cold-start figures per Lambda function: each handler is bundled exactly as the CDK app bundles
 * it (esbuild, ESM, minified, tree-shaken, SDK inside), then imported in a fresh Node process.
 * Import times are medians of interleaved runs, shown as a ratio to a bundle holding one bare
 * DynamoDB client — the least any function of ours can carry.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build, type Metafile } from 'esbuild';
import { fromRepoRoot, REPO_ROOT } from '../infra/paths.ts';
import { median, table } from './figures.ts';

const RUNS = Number(process.env.BENCH_RUNS ?? 20);
const REFERENCE = 'bench/reference/one-dynamodb-client.ts';

/** The same options as infra/constructs/project-function.ts gives NodejsFunction. */
async function bundle(entry: string, outdir: string) {
  const outfile = join(outdir, `${entry.replace(/[/.]/g, '_')}.mjs`);
  const result = await build({
    entryPoints: [fromRepoRoot(entry)],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node22',
    minify: true,
    treeShaking: true,
    mainFields: ['module', 'main'],
    banner: { js: "import { createRequire } from 'module'; const require = createRequire(import.meta.url);" },
    metafile: true,
    logLevel: 'error',
  });
  return { outfile, bytes: statSync(outfile).size, clients: sdkClients(result.metafile) };
}

/** Which AWS SDK clients (and Azure packages) ended up inside the bundle. */
function sdkClients(metafile: Metafile): string[] {
  const found = new Set<string>();
  for (const input of Object.keys(metafile.inputs)) {
    const match = /node_modules\/(@aws-sdk\/client-[a-z0-9-]+|@azure\/arm-[a-z0-9-]+)\//.exec(input);
    if (match) found.add(match[1]!.replace('@aws-sdk/client-', '').replace('@azure/', 'azure:'));
  }
  return [...found].sort();
}

/** Milliseconds to import the bundle in a fresh process (module evaluation included, no handler call). */
function importMs(file: string): number {
  const script = `const t = performance.now(); await import(${JSON.stringify(pathToFileURL(file).href)}); process.stdout.write(String(performance.now() - t));`;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
    env: { PATH: process.env.PATH, AWS_REGION: 'us-east-1', NODE_NO_WARNINGS: '1' },
    encoding: 'utf8',
  });
  return Number(out);
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
      ['function', 'bundle KiB', 'SDK clients inside', 'import ms', 'vs one DynamoDB client'],
      entries.map((entry) => {
        const b = bundles.get(entry)!;
        const ms = median(times.get(entry)!);
        return [entry === REFERENCE ? 'reference: one DynamoDB client' : entry, (b.bytes / 1024).toFixed(0), b.clients.join(' ') || '—', ms.toFixed(1), `${(ms / reference).toFixed(2)}×`];
      }),
    );
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}
