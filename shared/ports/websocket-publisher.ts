/**
 * Sends a message to one open WebSocket: the API Gateway Management API on AWS, the local `ws`
 * server locally. `gone` means the socket no longer exists, and its connection should be forgotten.
 */
export interface WebSocketPublisher {
  send(connectionId: string, message: unknown): Promise<'sent' | 'gone'>;
}
