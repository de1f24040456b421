import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/** Debian's Chromium, which playwright-core drives (no browser download: the suite runs offline). */
export const CHROMIUM_PATH = process.env.HANGAR_CHROMIUM ?? '/usr/bin/chromium';

function aptInstall(): number | null {
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const install = () => spawnSync('apt-get', ['install', '-y', '--no-install-recommends', 'chromium'], { stdio: 'inherit', env }).status;
  const first = install();
  if (first === 0) return 0;
  // A fresh machine may not have package lists yet.
  spawnSync('apt-get', ['update'], { stdio: 'inherit', env });
  return install();
}

/** The browser's path; installs Chromium with apt when it is missing, or says plainly why it cannot. */
export function ensureChromium(): string {
  if (existsSync(CHROMIUM_PATH)) return CHROMIUM_PATH;
  const status = aptInstall();
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `The browser tests need Chromium at ${CHROMIUM_PATH}, and 'apt-get install -y chromium' failed (exit ${status}). ` +
        'Install it as root (apt-get update && apt-get install -y chromium) or point HANGAR_CHROMIUM at a Chromium binary.',
    );
  }
  return CHROMIUM_PATH;
}
