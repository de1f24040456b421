import { request } from 'node:http';
import { LOOPBACK } from './ports.ts';

/**
 * True when GET http://127.0.0.1:<port><path> answers 200 within `timeoutMs`. Uses a fresh
 * connection each time (no agent) so no pooled socket outlives the probe or keeps Node alive.
 */
export function probeHealth(port: number, path: string, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ host: LOOPBACK, port, path, method: 'GET', agent: false, timeout: timeoutMs }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
    req.end();
  });
}
