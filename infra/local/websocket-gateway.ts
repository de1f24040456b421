import { randomBytes } from 'node:crypto';
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { APIGatewayProxyResultV2, Context } from 'aws-lambda';
import { WebSocketServer, type WebSocket } from 'ws';
import type { LocalWebSocketPublisher } from '../../shared/adapters/local/ws-publisher.ts';
import { CONNECTION_TTL_SECONDS } from '../../shared/domain/realtime.ts';
import type { WebSocketEvent } from '../../shared/lambda/websocket-handlers.ts';
import { lambdaContext } from './gateway.ts';

type RouteHandler = (event: WebSocketEvent, context: Context) => Promise<APIGatewayProxyResultV2>;

export interface WebSocketGatewayOptions {
  /** The local HTTP gateway's server: sockets share its port. */
  server: Server;
  /** @default '/ws' */
  path?: string;
  /** The very functions API Gateway runs for `$connect`, `$disconnect` and `$default`. */
  handlers: { connect: RouteHandler; disconnect: RouteHandler; message: RouteHandler };
  publisher: LocalWebSocketPublisher;
  /** API Gateway closes a socket after two hours; so does this gateway. */
  maxConnectionMs?: number;
  /** API Gateway refuses frames over 128 KB; no Hangar message comes near. */
  maxPayloadBytes?: number;
  log?: (line: string) => void;
}

/**
 * The local stand-in for the API Gateway WebSocket API, on the HTTP gateway's port: a handshake
 * on `/ws` becomes a `$connect` event for the same handler Lambda runs (a refusal is answered at
 * the handshake with its status, 401 for a bad ticket), each message a `$default` event whose
 * response goes back on the socket, a close a `$disconnect` event. Messages of one socket are
 * handled one at a time, in order, as API Gateway does.
 */
export function attachWebSocketGateway(options: WebSocketGatewayOptions): { close(): Promise<void> } {
  const path = options.path ?? '/ws';
  const log = options.log ?? (() => undefined);
  const wss = new WebSocketServer({ noServer: true, maxPayload: options.maxPayloadBytes ?? 128 * 1024 });
  const open = new Set<WebSocket>();

  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    handshake(req, socket, head).catch((error) => {
      log(`websocket handshake failed: ${error}`);
      refuse(socket, 500, JSON.stringify({ success: false, error: 'Internal error in the local WebSocket gateway', code: 'INTERNAL_ERROR' }));
    });
  };

  async function handshake(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname !== path) {
      refuse(socket, 404, JSON.stringify({ success: false, error: `No WebSocket at ${url.pathname}; it is at ${path}`, code: 'ROUTE_NOT_FOUND' }));
      return;
    }
    // API Gateway's connection ids are short base64 strings; these look alike.
    const connectionId = randomBytes(12).toString('base64');
    const query = Object.fromEntries(url.searchParams);
    options.publisher.connecting(connectionId);
    const answer = await options.handlers.connect(
      { ...eventFor('CONNECT', '$connect', connectionId, req), queryStringParameters: Object.keys(query).length ? query : undefined },
      lambdaContext('websocket-connect'),
    );
    const status = typeof answer === 'object' ? (answer.statusCode ?? 200) : 200;
    if (status !== 200) {
      options.publisher.closed(connectionId);
      refuse(socket, status, typeof answer === 'object' ? (answer.body ?? '') : '');
      return;
    }
    if (socket.destroyed) {
      // The client left during the handshake: forget the connection as API Gateway would.
      options.publisher.closed(connectionId);
      await options.handlers.disconnect(eventFor('DISCONNECT', '$disconnect', connectionId, req), lambdaContext('websocket-disconnect'));
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => serveSocket(ws, connectionId, req));
  }

  function serveSocket(ws: WebSocket, connectionId: string, req: IncomingMessage): void {
    open.add(ws);
    options.publisher.opened(connectionId, ws);
    const limit = setTimeout(() => ws.close(1001, 'Connection duration limit reached: reconnect with a fresh ticket'), options.maxConnectionMs ?? CONNECTION_TTL_SECONDS * 1000);
    limit.unref();
    let inOrder = Promise.resolve();
    ws.on('message', (data, isBinary) => {
      const body = isBinary ? Buffer.from(data as Buffer).toString('base64') : data.toString();
      inOrder = inOrder.then(async () => {
        try {
          const answer = await options.handlers.message(
            { ...eventFor('MESSAGE', '$default', connectionId, req), body, isBase64Encoded: isBinary },
            lambdaContext('websocket-message'),
          );
          const text = typeof answer === 'object' ? answer.body : answer;
          if (text && ws.readyState === ws.OPEN) ws.send(text);
        } catch (error) {
          log(`websocket message failed: ${error}`);
        }
      });
    });
    ws.on('close', () => {
      clearTimeout(limit);
      open.delete(ws);
      options.publisher.closed(connectionId);
      inOrder = inOrder.then(() =>
        options.handlers
          .disconnect(eventFor('DISCONNECT', '$disconnect', connectionId, req), lambdaContext('websocket-disconnect'))
          .then(() => undefined, (error) => log(`websocket disconnect failed: ${error}`)),
      );
    });
    ws.on('error', (error) => log(`websocket error: ${error.message}`));
  }

  options.server.on('upgrade', onUpgrade);
  return {
    close: async () => {
      options.server.off('upgrade', onUpgrade);
      for (const ws of open) ws.close(1001, 'Hangar is stopping');
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      for (const ws of open) ws.terminate();
    },
  };
}

function eventFor(eventType: 'CONNECT' | 'MESSAGE' | 'DISCONNECT', routeKey: string, connectionId: string, req: IncomingMessage): WebSocketEvent {
  const now = Date.now();
  return {
    requestContext: {
      routeKey,
      messageId: randomBytes(8).toString('hex'),
      eventType,
      extendedRequestId: randomBytes(8).toString('hex'),
      requestTime: new Date(now).toUTCString(),
      messageDirection: 'IN',
      stage: 'local',
      connectedAt: now,
      requestTimeEpoch: now,
      requestId: randomBytes(8).toString('hex'),
      domainName: req.headers.host ?? 'localhost',
      connectionId,
      apiId: 'local',
    },
    isBase64Encoded: false,
  };
}

/** Refuse a handshake with an HTTP answer, as API Gateway does when `$connect` does not answer 200. */
function refuse(socket: Duplex, status: number, body: string): void {
  if (!socket.writable) return void socket.destroy();
  const reason = { 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found' }[status] ?? 'Error';
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nconnection: close\r\ncontent-type: application/json; charset=utf-8\r\n` +
      `content-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}
