import { webSocketRoute, type WebSocketEvent } from '../../shared/lambda/websocket-handlers.ts';
import { composeHangar, type AppDependencies } from '../../shared/config/composition.ts';
import { tableFromEnvironment } from '../../shared/db/db.ts';

/** `$connect`: spends the ticket in `?ticket=`; a missing, used or expired one refuses the socket (401). */
export const connect = async (deps: AppDependencies, event: WebSocketEvent) => {
  await deps.services.realtime.connect(event.requestContext.connectionId, event.queryStringParameters?.ticket);
};

export const handler = webSocketRoute(() => composeHangar({ db: tableFromEnvironment() }), connect);
