import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AreaHandler, MAX_HEADER_BYTES, startGateway } from '../../infra/local/gateway.ts';
import { API_AREAS, type ApiArea } from '../../shared/http/routes.ts';

/**
 * The local gateway's own answers, before any handler runs: each must be the JSON error envelope,
 * never a 500 or an empty body. The handlers here only echo what reached them.
 */
let gateway: Awaited<ReturnType<typeof startGateway>>;
const reached: { path: string; params: unknown }[] = [];

beforeAll(async () => {
  const echo: AreaHandler = async (event) => {
    reached.push({ path: event.rawPath, params: event.pathParameters });
    return { statusCode: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ success: true, params: event.pathParameters ?? {} }) };
  };
  const handlers = Object.fromEntries(API_AREAS.map((area) => [area, echo])) as Record<ApiArea, AreaHandler>;
  gateway = await startGateway({ port: 0, handlers });
});

afterAll(() => gateway.close());

/** A raw request (fetch would refuse or re-encode what these tests send). */
function raw(path: string, headers: Record<string, string> = {}): Promise<{ status: number; contentType: string; body: string }> {
  const { port } = new URL(gateway.url);
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'GET', headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode!, contentType: String(res.headers['content-type']), body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('local gateway: malformed % escapes in the path', () => {
  it.each(['/api/instances/%ff', '/api/instances/%zz', '/api/instances/%', '/api/instances/abc%e2%82/events', '/api/clients/%c0%af'])(
    '%s is a 400 JSON envelope with BAD_REQUEST, and no handler runs',
    async (path) => {
      const before = reached.length;
      const response = await raw(path);
      expect(response.status).toBe(400);
      expect(response.contentType).toMatch(/^application\/json/);
      expect(JSON.parse(response.body)).toMatchObject({ success: false, code: 'BAD_REQUEST', error: expect.stringMatching(/malformed % escape/) });
      expect(reached.length).toBe(before);
    },
  );

  it('still decodes well-formed escapes (unicode ids reach the handler decoded)', async () => {
    const response = await raw('/api/instances/vps-caf%C3%A9');
    expect(response.status).toBe(200);
    expect(JSON.parse(response.body).params).toEqual({ id: 'vps-café' });
  });
});

describe('local gateway: oversized headers', () => {
  it(`answers a header block over ${MAX_HEADER_BYTES / 1024} KB with a JSON 431`, async () => {
    const response = await raw('/api/health', { 'x-padding': 'a'.repeat(MAX_HEADER_BYTES + 1) });
    expect(response.status).toBe(431);
    expect(response.contentType).toMatch(/^application\/json/);
    expect(JSON.parse(response.body)).toEqual({
      success: false,
      error: expect.stringMatching(/headers are larger than 16 KB/),
      code: 'HEADERS_TOO_LARGE',
      details: [],
    });
  });

  it('serves a header block just under the bound', async () => {
    const response = await raw('/api/health', { 'x-padding': 'a'.repeat(MAX_HEADER_BYTES - 1024) });
    expect(response.status).toBe(200);
  });

  it('keeps serving after refusing one', async () => {
    await raw('/api/health', { 'x-padding': 'a'.repeat(MAX_HEADER_BYTES * 2) });
    expect((await raw('/api/health')).status).toBe(200);
  });
});
