import { createServer } from 'node:net';
import { ProviderError } from '../../domain/errors.ts';

export const LOOPBACK = '127.0.0.1';

/**
 * A TCP port on the loopback interface that nobody holds right now. The OS picks it (port 0);
 * we release it at once so the workload can bind it. Another program could take it in between,
 * in which case the workload exits with a "cannot listen" line that describe() reports.
 */
export function allocateFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', (error) => reject(new ProviderError(`Cannot allocate a local port: ${error.message}`, true)));
    server.listen(0, LOOPBACK, () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new ProviderError('Cannot allocate a local port', true))));
    });
  });
}
