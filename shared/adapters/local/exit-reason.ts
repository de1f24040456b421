/** How a workload ended, in words an operator can act on; the last stderr line says why. */
export function describeExit(pid: number, code: number | null, signal: string | null, lastStderrLine?: string): string {
  let reason: string;
  if (code !== null) reason = `process ${pid} exited with code ${code}`;
  else if (signal !== null) reason = `process ${pid} was killed by ${signal}`;
  // Only a parent learns the exit status; adopted processes belong to an earlier runtime.
  else reason = `process ${pid} exited unexpectedly (exit status unknown: started by an earlier runtime)`;
  return lastStderrLine ? `${reason}: ${lastStderrLine}` : reason;
}
