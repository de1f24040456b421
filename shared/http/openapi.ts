import { OpenAPIRegistry, OpenApiGeneratorV31 } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { ROUTES, type RouteDefinition } from './routes.ts';

const errorSchema = z.object({
  success: z.literal(false),
  error: z.string(),
  code: z.string(),
  details: z.array(z.object({ path: z.string().optional(), message: z.string() })),
  requestId: z.string().optional(),
});

let cached: object | undefined;

/** The API described from the route table and the same zod schemas that validate requests. */
export function buildOpenApiDocument(): object {
  if (cached) return cached;
  const registry = new OpenAPIRegistry();
  registry.registerComponent('securitySchemes', 'apiKey', { type: 'http', scheme: 'bearer', description: 'A Hangar API key' });
  // Inline, not registered: registering calls `.openapi()`, which zod 4 schemas built before
  // extendZodWithOpenApi ran (all of shared/domain) do not have.
  const error = errorSchema;
  for (const route of ROUTES) registry.registerPath(pathOf(route, error));
  cached = new OpenApiGeneratorV31(registry.definitions).generateDocument({
    openapi: '3.1.0',
    info: { title: 'Hangar', version: '1', description: 'A control plane for compute instances.' },
    servers: [{ url: '/' }],
  });
  return cached;
}

function pathOf(route: RouteDefinition, error: z.ZodType) {
  const params = [...route.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!);
  const errorResponse = (description: string) => ({ description, content: { 'application/json': { schema: error } } });
  return {
    method: route.method.toLowerCase() as 'get' | 'head' | 'post' | 'patch' | 'put' | 'delete',
    path: route.path,
    operationId: route.operationId,
    summary: route.summary,
    ...(route.auth ? { security: [{ apiKey: [] }] } : {}),
    request: {
      ...(params.length ? { params: z.object(Object.fromEntries(params.map((p) => [p, z.string()]))) } : {}),
      ...(route.query ? { query: route.query as z.ZodObject } : {}),
      ...(route.body ? { body: { content: { 'application/json': { schema: route.body } } } } : {}),
      ...(route.idempotent ? { headers: z.object({ 'idempotency-key': z.string().optional() }) } : {}),
    },
    responses: {
      200: { description: 'Success: `{ "success": true, ... }`' },
      400: errorResponse('Invalid request'),
      ...(route.auth ? { 401: errorResponse('Missing or invalid API key'), 403: errorResponse('Role not allowed') } : {}),
      404: errorResponse('Not found (or not yours)'),
    },
  };
}
