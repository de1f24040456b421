import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, resolve, sep } from 'node:path';
import { BILLABLE_STATUSES, TRANSITIONAL_STATUSES, TRANSITIONS } from '../../shared/domain/lifecycle.ts';
import { ROLES } from '../../shared/domain/roles.ts';
import { REPO_ROOT } from '../paths.ts';

/**
 * The web console's static files: `console/` as is (no build step), the browser modules it
 * imports from node_modules under `/vendor/`, and `/config.json`. The same pieces are what the
 * CDK construct deploys to the bucket, so both places serve one console.
 */

/** `/vendor/<name>` → the file under node_modules; the import map in console/index.html names these. */
export const VENDOR_FILES: Readonly<Record<string, string>> = {
  'preact.mjs': 'preact/dist/preact.mjs',
  'preact-hooks.mjs': 'preact/hooks/dist/hooks.mjs',
  'htm.mjs': 'htm/dist/htm.module.js',
  'htm-preact.mjs': 'htm/preact/index.module.js',
  'uPlot.esm.js': 'uplot/dist/uPlot.esm.js',
  'uPlot.min.css': 'uplot/dist/uPlot.min.css',
};

export const CONSOLE_DIR = join(REPO_ROOT, 'console');
export const NODE_MODULES_DIR = join(REPO_ROOT, 'node_modules');

/** What the console reads at start: where the API is, how to go live, and the lifecycle it offers actions from. */
export interface ConsoleConfig {
  apiBase: string;
  stage: string;
  websocket: { ticketsPath: string; url?: string } | null;
  /** From shared/domain: the console offers an action only where the transition table allows it. */
  lifecycle: {
    actions: Record<'start' | 'stop' | 'reboot' | 'terminate' | 'extend' | 'kill', readonly string[]>;
    transitional: readonly string[];
    billable: readonly string[];
  };
  roles: readonly string[];
}

export function consoleConfig(options: { apiBase?: string; stage: string; websocketUrl?: string }): ConsoleConfig {
  const from = (action: keyof typeof TRANSITIONS) => TRANSITIONS[action].from;
  return {
    apiBase: options.apiBase ?? '',
    stage: options.stage,
    websocket: { ticketsPath: '/api/realtime/tickets', ...(options.websocketUrl ? { url: options.websocketUrl } : {}) },
    lifecycle: {
      actions: { start: from('start'), stop: from('stop'), reboot: from('reboot'), terminate: from('terminate'), extend: from('extend'), kill: from('kill') },
      transitional: TRANSITIONAL_STATUSES,
      billable: BILLABLE_STATUSES,
    },
    roles: ROLES,
  };
}

/** The `sha256-…` source of every inline script in the page: the import map is the only one. */
export function inlineScriptHashes(html: string): string[] {
  const hashes: string[] = [];
  for (const match of html.matchAll(/<script\b[^>]*>([\s\S]*?)<\/script>/gi)) {
    const body = match[1]!;
    if (body.trim() === '') continue;
    hashes.push(`'sha256-${createHash('sha256').update(body, 'utf8').digest('base64')}'`);
  }
  return hashes;
}

/**
 * No inline script but the import map (allowed by its hash), nothing from another origin but
 * the WebSocket, no framing. Styles set through the DOM (uPlot, preact's style props) are not
 * inline style elements, so `style-src 'self'` holds.
 */
export function contentSecurityPolicy(html: string, options: { connect?: string[] } = {}): string {
  return [
    "default-src 'self'",
    `script-src 'self' ${inlineScriptHashes(html).join(' ')}`.trim(),
    "style-src 'self'",
    "img-src 'self' data:",
    `connect-src ${["'self'", ...(options.connect ?? [])].join(' ')}`,
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
};

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
};

/** Where a request path's file is, or null when it names nothing the console serves. */
export function resolveConsolePath(pathname: string, dirs: { consoleDir: string; nodeModulesDir: string }): string | null {
  if (pathname === '/' || pathname === '/index.html') return join(dirs.consoleDir, 'index.html');
  if (pathname.startsWith('/vendor/')) {
    const target = VENDOR_FILES[pathname.slice('/vendor/'.length)];
    return target ? join(dirs.nodeModulesDir, target) : null;
  }
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    return null;
  }
  // No dot files, no way out of the folder, only types the console is made of.
  if (decoded.split('/').some((part) => part.startsWith('.')) || decoded.includes('\\') || decoded.includes('\0')) return null;
  if (!TYPES[extname(decoded)]) return null;
  const root = resolve(dirs.consoleDir);
  const file = resolve(root, `.${decoded}`);
  return file.startsWith(root + sep) ? file : null;
}

/** A request handler for every path that is not /api: the console, its vendor modules and /config.json. */
export function makeConsoleServer(options: { stage?: string; consoleDir?: string; nodeModulesDir?: string } = {}) {
  const dirs = { consoleDir: options.consoleDir ?? CONSOLE_DIR, nodeModulesDir: options.nodeModulesDir ?? NODE_MODULES_DIR };
  const stage = options.stage ?? 'local';

  return async function serveConsole(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = (req.method ?? 'GET').toUpperCase();
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (method !== 'GET' && method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8', ...SECURITY_HEADERS });
      res.end(`${method} is not allowed on ${url.pathname}\n`);
      return;
    }
    if (url.pathname === '/config.json') {
      const body = JSON.stringify(consoleConfig({ stage }));
      res.writeHead(200, { 'content-type': TYPES['.json']!, 'cache-control': 'no-store', ...SECURITY_HEADERS });
      res.end(method === 'HEAD' ? undefined : body);
      return;
    }
    const file = resolveConsolePath(url.pathname, dirs);
    const found = file ? await stat(file).then((s) => s.isFile(), () => false) : false;
    if (!file || !found) {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8', ...SECURITY_HEADERS });
      res.end(method === 'HEAD' ? undefined : `Not found: ${url.pathname}\n`);
      return;
    }
    // Read on every request: an edited console file shows on the next reload, with no build.
    const body = await readFile(file);
    const headers: Record<string, string> = {
      'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
      'cache-control': 'no-cache',
      ...SECURITY_HEADERS,
    };
    if (extname(file) === '.html') {
      // The WebSocket is on this same host (`/ws`); name it for browsers that do not count ws: as 'self'.
      const host = req.headers.host;
      headers['content-security-policy'] = contentSecurityPolicy(body.toString('utf8'), { connect: host ? [`ws://${host}`] : [] });
    }
    res.writeHead(200, headers);
    res.end(method === 'HEAD' ? undefined : body);
  };
}

export type ConsoleHandler = ReturnType<typeof makeConsoleServer>;

/** Paths the API owns; everything else is the console's. */
export const isApiPath = (rawUrl: string | undefined) => /^\/api(?:[/?#]|$)/.test(rawUrl ?? '/');
