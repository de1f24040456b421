import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';

export interface HttpResult {
  status: number;
  /** Merged into `{ success: true, ... }`; the key names what it holds (`instance`, `instances`…). */
  payload: Record<string, unknown>;
  headers?: Record<string, string>;
  /** Send the payload as it is, without the success envelope (documents such as openapi.json). */
  raw?: boolean;
}

export const ok = (payload: Record<string, unknown>, status = 200): HttpResult => ({ status, payload });
export const accepted = (payload: Record<string, unknown>): HttpResult => ({ status: 202, payload });
export const created = (payload: Record<string, unknown>): HttpResult => ({ status: 201, payload });

export function toResponse(status: number, body: unknown, headers: Record<string, string> = {}): APIGatewayProxyStructuredResultV2 {
  return {
    statusCode: status,
    headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
    body: JSON.stringify(body),
  };
}
