import { createDefaultHttpClient, type HttpClient, type PipelineRequest, type PipelineResponse } from '@azure/core-rest-pipeline';
import { isLoopbackHost } from './azure-credentials.ts';

/**
 * The SDK's own HTTP client, except that a request to a loopback host given as http goes out
 * over http. @azure/identity refuses an http authority and the bearer-token policy refuses an
 * http Resource Manager URL, so the SDK is handed the https form of a loopback endpoint and this
 * client sends it in the clear (allowInsecureConnection), then puts the https URL back on the
 * request: the SDK reads it again (a long-running operation's final poll) and must see what it
 * sent. Only the hosts in `plainHttpHosts` (host:port, all loopback) are touched; every other
 * request, and so every real Azure endpoint, keeps TLS.
 */
export function loopbackHttpClient(plainHttpHosts: ReadonlySet<string>, inner: HttpClient = createDefaultHttpClient()): HttpClient {
  return {
    async sendRequest(request: PipelineRequest): Promise<PipelineResponse> {
      const url = new URL(request.url);
      if (url.protocol !== 'https:' || !plainHttpHosts.has(url.host) || !isLoopbackHost(url.hostname)) {
        return inner.sendRequest(request);
      }
      const original = request.url;
      const insecure = request.allowInsecureConnection;
      url.protocol = 'http:';
      request.url = url.href;
      request.allowInsecureConnection = true;
      try {
        return await inner.sendRequest(request);
      } finally {
        request.url = original;
        request.allowInsecureConnection = insecure;
      }
    },
  };
}

/** host:port of every endpoint given as plain http (checkEndpoint has made sure they are loopback). */
export function plainHttpHostsOf(endpoints: readonly string[]): Set<string> {
  return new Set(endpoints.filter((endpoint) => endpoint.startsWith('http:')).map((endpoint) => new URL(endpoint).host));
}
