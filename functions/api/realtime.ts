import { WEBSOCKET_URL_VARIABLE } from '../../shared/adapters/aws/apigateway-websocket-publisher.ts';
import { composeHangar, type AppDependencies } from '../../shared/config/composition.ts';
import { requireEnv } from '../../shared/config/env.ts';
import { tableFromEnvironment } from '../../shared/db/db.ts';
import { created } from '../../shared/http/responses.ts';
import { httpApi, type RouteHandlers } from '../../shared/http/http-api.ts';

export const routes: RouteHandlers<AppDependencies> = {
  createRealtimeTicket: async ({ principal, headers, deps }) => {
    // Without a configured URL (the local runtime), the socket is on the gateway that was asked.
    const ticket = await deps.services.realtime.issueTicket(principal, `ws://${headers.host ?? 'localhost'}/ws`);
    return created({ ticket });
  },
};

/** Real time: tickets for the WebSocket. */
export const handler = httpApi('realtime', routes, () =>
  composeHangar({ db: tableFromEnvironment(), webSocketUrl: requireEnv(WEBSOCKET_URL_VARIABLE) }),
);
