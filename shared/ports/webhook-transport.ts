/** One signed POST to a receiver. */
export interface WebhookRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
  timeoutMs: number;
}

/** What came back: a status, or why none did. Never throws for the receiver's failures. */
export type WebhookResponse = { statusCode: number; durationMs: number } | { error: string; durationMs: number };

/**
 * How webhooks reach receivers. The real one resolves the host, refuses private targets and
 * pins the address it checked (shared/adapters/webhooks/http-transport.ts).
 */
export interface WebhookTransport {
  /** Throws a ValidationError when the URL may not be a target (bad scheme, private address, unresolvable). */
  checkTarget(url: string): Promise<void>;
  post(request: WebhookRequest): Promise<WebhookResponse>;
}
