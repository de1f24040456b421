import WebSocket from 'ws';
import type { WebSocketPublisher } from '../../ports/websocket-publisher.ts';

/**
 * The local runtime's sockets, by connection id. A socket still in its handshake queues what is
 * sent to it (the `$connect` handler subscribes it before the upgrade completes); a closed or
 * unknown one is gone, as API Gateway would answer 410.
 */
export class LocalWebSocketPublisher implements WebSocketPublisher {
  private readonly sockets = new Map<string, WebSocket>();
  private readonly pending = new Map<string, string[]>();

  /** A handshake has begun: hold messages for this id until it opens or is refused. */
  connecting(connectionId: string): void {
    this.pending.set(connectionId, []);
  }

  opened(connectionId: string, socket: WebSocket): void {
    this.sockets.set(connectionId, socket);
    for (const data of this.pending.get(connectionId) ?? []) socket.send(data);
    this.pending.delete(connectionId);
  }

  closed(connectionId: string): void {
    this.sockets.delete(connectionId);
    this.pending.delete(connectionId);
  }

  async send(connectionId: string, message: unknown): Promise<'sent' | 'gone'> {
    const data = JSON.stringify(message);
    const queued = this.pending.get(connectionId);
    if (queued) {
      queued.push(data);
      return 'sent';
    }
    const socket = this.sockets.get(connectionId);
    if (!socket || socket.readyState !== WebSocket.OPEN) return 'gone';
    await new Promise<void>((resolve, reject) => socket.send(data, (error) => (error ? reject(error) : resolve())));
    return 'sent';
  }
}
