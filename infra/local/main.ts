import { startLocalRuntime } from './runtime.ts';

/** `npm start`: Hangar on this machine. */
const port = Number(process.env.PORT ?? 3000);
if (!Number.isInteger(port) || port < 0 || port > 65_535) {
  console.error(`PORT must be a TCP port number, got '${process.env.PORT}'`);
  process.exit(1);
}

const log = (line: string) => console.log(`[hangar] ${line}`);

/** A positive number from the environment, or undefined for the default. */
function numberFromEnv(name: string): number | undefined {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return undefined;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) {
    console.error(`${name} must be a positive number, got '${raw}'`);
    process.exit(1);
  }
  return value;
}

try {
  log('starting: embedded DynamoDB, LOCAL provider, workflow runner…');
  const runtime = await startLocalRuntime({
    port,
    home: process.env.HANGAR_HOME ?? '.hangar',
    adminKey: process.env.HANGAR_ADMIN_KEY || undefined,
    sampleIntervalMs: numberFromEnv('HANGAR_SAMPLE_INTERVAL_MS'),
    workflowWaitMs: numberFromEnv('HANGAR_WORKFLOW_WAIT_MS'),
    deadlineMinuteMs: numberFromEnv('HANGAR_DEADLINE_MINUTE_MS'),
    deadlineWarningMinutes: numberFromEnv('HANGAR_DEADLINE_WARNING_MINUTES'),
    sweepIntervalMs: numberFromEnv('HANGAR_SWEEP_INTERVAL_MS'),
    healthIntervalMs: numberFromEnv('HANGAR_HEALTH_INTERVAL_MS'),
    syncIntervalMs: numberFromEnv('HANGAR_SYNC_INTERVAL_MS'),
    realtimeTicketSeconds: numberFromEnv('HANGAR_REALTIME_TICKET_SECONDS'),
    log,
  });
  console.log(`
  Hangar is running at ${runtime.url}
  Web console:         open ${runtime.url}/ and sign in with the platform admin key
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
