import { WEBSOCKET_URL_VARIABLE } from '../../shared/adapters/aws/apigateway-websocket-publisher.ts';
import { composeHangar, type AppDependencies } from '../../shared/config/composition.ts';
import { requireEnv } from '../../shared/config/env.ts';
import { tableFromEnvironment } from '../../shared/db/db.ts';
import { ValidationError } from '../../shared/domain/errors.ts';
import { created } from '../../shared/http/responses.ts';
import { httpApi, type RouteHandlers } from '../../shared/http/http-api.ts';

export const routes: RouteHandlers<AppDependencies> = {
  createRealtimeTicket: async ({ principal, headers, deps }) => {
    // Without a configured URL (the local runtime), the socket is on the gateway that was asked.
    const ticket = await deps.services.realtime.issueTicket(principal, `ws://${gatewayHost(headers.host)}/ws`);
    return created({ ticket });
  },
};

/** The Host the request came to (`host[:port]`); one that names no host is the caller's mistake, a 400. */
export function gatewayHost(host: string | undefined): string {
  if (host === undefined || host === '') return 'localhost';
  let url: URL | undefined;
  try {
    url = new URL(`ws://${host}/ws`);
  } catch {
    url = undefined;
  }
  if (!url || url.pathname !== '/ws' || url.username || url.password || url.search || url.hash) {
    throw new ValidationError(`The Host header '${host.slice(0, 80)}' names no host`);
  }
  return url.host;
}

/** Real time: tickets for the WebSocket. */
export const handler = httpApi('realtime', routes, () =>
  composeHangar({ db: tableFromEnvironment(), webSocketUrl: requireEnv(WEBSOCKET_URL_VARIABLE) }),
);
