import { ok } from '../../shared/http/responses.ts';
import { httpApi } from '../../shared/http/http-api.ts';

const health = async () => ok({ status: 'ok', service: 'hangar' });

export const routes = {
  getHealth: health,
  headHealth: health,
  // Loaded on first use: liveness probes, the frequent caller, never parse the OpenAPI generator.
  getOpenApi: async () => {
    const { buildOpenApiDocument } = await import('../../shared/http/openapi.ts');
    return { status: 200, payload: (await buildOpenApiDocument()) as Record<string, unknown>, raw: true };
  },
};

/** Routes anyone may call: liveness and the API description. No table, no SDK client. */
export const handler = httpApi('public', routes);
