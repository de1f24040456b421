import { startLocalRuntime } from './runtime.ts';

/** `npm start`: Hangar on this machine. */
const port = Number(process.env.PORT ?? 3000);
if (!Number.isInteger(port) || port < 0 || port > 65_535) {
  console.error(`PORT must be a TCP port number, got '${process.env.PORT}'`);
  process.exit(1);
}

const log = (line: string) => console.log(`[hangar] ${line}`);

try {
  log('starting: embedded DynamoDB, LOCAL provider, workflow runner…');
  const runtime = await startLocalRuntime({
    port,
    home: process.env.HANGAR_HOME ?? '.hangar',
    adminKey: process.env.HANGAR_ADMIN_KEY || undefined,
    sampleIntervalMs: process.env.HANGAR_SAMPLE_INTERVAL_MS ? Number(process.env.HANGAR_SAMPLE_INTERVAL_MS) : undefined,
    workflowWaitMs: process.env.HANGAR_WORKFLOW_WAIT_MS ? Number(process.env.HANGAR_WORKFLOW_WAIT_MS) : undefined,
    log,
  });
  console.log(`
  Hangar is running at ${runtime.url}
  Platform admin key:  ${runtime.adminKey}
  State directory:     ${runtime.home}

  Try:  curl ${runtime.url}/api/health
        HANGAR_URL=${runtime.url} HANGAR_API_KEY=<key> npx hangar list instances --client <clientId>
  Stop with Ctrl-C (instances are stopped and started again next time).
`);
  let signalled = false;
  const shutdown = (signal: string) => {
    if (signalled) return;
    signalled = true;
    log(`${signal}: stopping instances and the embedded DynamoDB…`);
    runtime.stop().then(
      () => process.exit(0),
      (error) => {
        console.error('[hangar] shutdown failed:', error);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
} catch (error) {
  console.error(`[hangar] could not start: ${(error as Error).message}`);
  process.exit(1);
}
