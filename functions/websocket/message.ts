import { webSocketRoute, type WebSocketEvent } from '../../shared/lambda/websocket-handlers.ts';
import { composeHangar, type AppDependencies } from '../../shared/config/composition.ts';
import { tableFromEnvironment } from '../../shared/db/db.ts';

/** `$default`: subscribe, unsubscribe or ping; the answer is the route's response, sent back on the same socket. */
export const receive = async (deps: AppDependencies, event: WebSocketEvent) => {
  const answer = await deps.services.realtime.receive(event.requestContext.connectionId, event.body);
  return { statusCode: 200, body: JSON.stringify(answer) };
};

export const handler = webSocketRoute(() => composeHangar({ db: tableFromEnvironment() }), receive);
