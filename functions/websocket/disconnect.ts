import { webSocketRoute, type WebSocketEvent } from '../../shared/lambda/websocket-handlers.ts';
import { composeHangar, type AppDependencies } from '../../shared/config/composition.ts';
import { tableFromEnvironment } from '../../shared/db/db.ts';

/** `$disconnect`: the connection and its subscriptions go (their TTL is the backstop when this never comes). */
export const disconnect = async (deps: AppDependencies, event: WebSocketEvent) => {
  await deps.services.realtime.disconnect(event.requestContext.connectionId);
};

export const handler = webSocketRoute(() => composeHangar({ db: tableFromEnvironment() }), disconnect);
