import { fileURLToPath } from 'node:url';
import { join, resolve } from 'node:path';

/** The repository root: entry files, the lock file and esbuild's project root are resolved from here. */
export const REPO_ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));

export const fromRepoRoot = (...segments: string[]) => join(REPO_ROOT, ...segments);
