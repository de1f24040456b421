import { ApiGatewayManagementApiClient, PostToConnectionCommand } from '@aws-sdk/client-apigatewaymanagementapi';
import { requireEnv } from '../../config/env.ts';
import type { WebSocketPublisher } from '../../ports/websocket-publisher.ts';

/** The variable naming the stage's management endpoint: `https://<api>.execute-api.<region>.amazonaws.com/<stage>`. */
export const WEBSOCKET_CALLBACK_URL_VARIABLE = 'HANGAR_WEBSOCKET_CALLBACK_URL';
/** The variable naming the stage's WebSocket URL (`wss://…/<stage>`), which tickets point at. */
export const WEBSOCKET_URL_VARIABLE = 'HANGAR_WEBSOCKET_URL';

/**
 * Posts to sockets of the stage's WebSocket API through the API Gateway Management API. A socket
 * that closed answers 410, which SDK v3 raises as an error named `GoneException` (it carries no
 * `statusCode` of its own to test).
 */
export class ApiGatewayWebSocketPublisher implements WebSocketPublisher {
  constructor(private readonly client: ApiGatewayManagementApiClient) {}

  static fromEnvironment(): ApiGatewayWebSocketPublisher {
    return new ApiGatewayWebSocketPublisher(new ApiGatewayManagementApiClient({ endpoint: requireEnv(WEBSOCKET_CALLBACK_URL_VARIABLE) }));
  }

  async send(connectionId: string, message: unknown): Promise<'sent' | 'gone'> {
    try {
      await this.client.send(new PostToConnectionCommand({ ConnectionId: connectionId, Data: Buffer.from(JSON.stringify(message)) }));
      return 'sent';
    } catch (error) {
      if ((error as Error).name === 'GoneException') return 'gone';
      throw error;
    }
  }
}
