import { buildSync, type BuildOptions } from 'esbuild';
import { fromRepoRoot } from '../paths.ts';

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
