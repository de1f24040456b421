import { ok } from '../../shared/http/responses.ts';
import { httpApi } from '../../shared/http/http-api.ts';
import { buildOpenApiDocument } from '../../shared/http/openapi.ts';

/** Routes anyone may call: liveness and the API description. */
export const handler = httpApi('public', {
  getHealth: async () => ok({ status: 'ok', service: 'hangar' }),
  getOpenApi: async () => ({ status: 200, payload: buildOpenApiDocument() as Record<string, unknown>, raw: true }),
});
