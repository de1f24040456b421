import { buildSync, type BuildOptions, type Metafile } from 'esbuild';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fromRepoRoot, REPO_ROOT } from '../paths.ts';

/** Lets ESM bundles load the CommonJS dependencies esbuild leaves as `require` calls. */
const ESM_REQUIRE_BANNER = "import { createRequire } from 'module'; const require = createRequire(import.meta.url);";

/** The file Lambda loads: `index.mjs`, so the handler is `index.handler`. */
export const BUNDLE_ENTRY_FILE = 'index.mjs';

/**
 * How every function is bundled: one esbuild build per function, minified, tree-shaken ESM
 * that carries its own AWS SDK, with code splitting. A dynamic `import()` (the cloud adapters in
 * shared/config/cloud-providers.ts) becomes a chunk beside `index.mjs` that Lambda reads only
 * when the code first needs it, so a cold start parses the EC2 or Azure SDK only in a function
 * that acts on that cloud, and then only when it does. The bench builds with the same options.
 */
export function functionBundleOptions(entry: string, outdir: string): BuildOptions {
  return {
    entryPoints: { index: fromRepoRoot(entry) },
    outdir,
    outExtension: { '.js': '.mjs' },
    chunkNames: 'chunks/[name]-[hash]',
    bundle: true,
    splitting: true,
    platform: 'node',
    format: 'esm',
    target: 'node22',
    minify: true,
    treeShaking: true,
    // A .map file beside each output, read via --enable-source-maps; file and line, not sources.
    sourcemap: 'linked',
    sourcesContent: false,
    // Prefer packages' ESM builds so esbuild can tree-shake them.
    mainFields: ['module', 'main'],
    banner: { js: ESM_REQUIRE_BANNER },
    logLevel: 'error',
    metafile: true,
  };
}

/** Bundles one function into `outdir` (what CDK's local bundling calls). */
export function bundleFunction(entry: string, outdir: string) {
  return buildSync(functionBundleOptions(entry, outdir));
}

/**
 * The output files a cold start reads, from a build's metafile: the entry (`index.mjs`) and every
 * chunk it imports statically, transitively. Chunks reached only through `import()` are left out:
 * they load on first use.
 */
export function filesReadAtStart(metafile: Metafile): { entry: string; atStart: string[]; onUse: string[] } {
  const outputs = Object.keys(metafile.outputs).filter((file) => file.endsWith('.mjs'));
  const entry = outputs.find((file) => file.endsWith(`/${BUNDLE_ENTRY_FILE}`) && !file.includes('/chunks/'))!;
  const atStart = new Set<string>([entry]);
  for (const file of atStart) {
    for (const imported of metafile.outputs[file]!.imports) if (imported.kind === 'import-statement' && !imported.external) atStart.add(imported.path);
  }
  return { entry, atStart: [...atStart], onUse: outputs.filter((file) => !atStart.has(file)) };
}

/** The npm packages whose code the given output files hold, by name (`@aws-sdk/client-dynamodb`, `electrodb`). */
export function packagesIn(metafile: Metafile, files: string[]): string[] {
  const found = new Set<string>();
  for (const input of files.flatMap((file) => Object.keys(metafile.outputs[file]!.inputs))) {
    const match = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(input);
    if (match) found.add(match[1]!);
  }
  return [...found].sort();
}

/** Every Lambda entry file, relative to the repository root (`functions/api/instances.ts`, …). */
export function functionEntries(): string[] {
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
