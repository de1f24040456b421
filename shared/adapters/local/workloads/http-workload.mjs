// The default LOCAL workload: a tiny HTTP service that behaves like a well-mannered machine.
// Plain JavaScript with no dependencies so it runs on `process.execPath` alone, without a
// TypeScript loader and without the project's node_modules.
import { createServer } from 'node:http';
import { readFileSync, writeFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';

const port = Number(process.env.PORT);
const dataDir = process.env.DATA_DIR;
const instanceId = process.env.HANGAR_INSTANCE_ID ?? 'unknown';
const startedAt = new Date();

// Fail with one clear line: the provider reports the last line of stderr as the reason.
function fail(message) {
  process.stderr.write(`http-workload: ${message}\n`);
  process.exit(1);
}

if (!Number.isInteger(port) || port <= 0 || port > 65535) fail(`PORT must be a TCP port, got '${process.env.PORT ?? ''}'`);
if (!dataDir) fail('DATA_DIR is not set');

// Prove the data dir is usable (and that it survives restarts) by counting boots in it.
const stateFile = join(dataDir, 'workload-state.json');
let boots = 0;
try {
  boots = Number(JSON.parse(readFileSync(stateFile, 'utf8')).boots) || 0;
} catch {
  // First boot, or an unreadable file: start counting again.
}
boots += 1;
try {
  writeFileSync(`${stateFile}.tmp`, JSON.stringify({ instanceId, boots, lastBootAt: startedAt.toISOString(), pid: process.pid }));
  renameSync(`${stateFile}.tmp`, stateFile);
} catch (error) {
  fail(`cannot write to DATA_DIR ${dataDir}: ${error.message}`);
}

function sendJson(res, status, body) {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

const server = createServer((req, res) => {
  const path = (req.url ?? '/').split('?')[0];
  if (req.method === 'GET' && path === '/health') {
    sendJson(res, 200, { status: 'ok', instanceId, uptimeSeconds: Math.floor(process.uptime()) });
  } else if (req.method === 'GET' && path === '/') {
    sendJson(res, 200, { workload: 'http-workload', instanceId, pid: process.pid, boots, startedAt: startedAt.toISOString() });
  } else {
    sendJson(res, 404, { error: `no route for ${req.method} ${path}` });
  }
});

server.on('error', (error) => fail(`cannot listen on 127.0.0.1:${port}: ${error.message}`));
server.listen(port, '127.0.0.1', () => {
  process.stdout.write(`http-workload ${instanceId} listening on http://127.0.0.1:${port} (boot ${boots})\n`);
});

function shutdown(signal) {
  process.stdout.write(`http-workload ${instanceId} received ${signal}, shutting down\n`);
  server.close(() => process.exit(0));
  // Idle keep-alive connections would hold close() open; the provider's grace period is short.
  server.closeAllConnections();
  setTimeout(() => process.exit(0), 2000).unref();
}
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));
