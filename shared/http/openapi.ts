import { OpenAPIRegistry, OpenApiGeneratorV31 } from '@asteasolutions/zod-to-openapi';
import { loadZod, z } from '../domain/zod.ts';
import { ROUTES, type RouteDefinition } from './routes.ts';

/** Built with the document: the liveness routes share this function and never need it. */
const errorSchema = () =>
  z.object({
    success: z.literal(false),
    error: z.string(),
    code: z.string(),
    details: z.array(z.object({ path: z.string().optional(), message: z.string() })),
    requestId: z.string().optional(),
  });

let cached: object | undefined;

/** The API described from the route table and the same zod schemas that validate requests. */
export async function buildOpenApiDocument(): Promise<object> {
  if (cached) return cached;
  await loadZod();
  const registry = new OpenAPIRegistry();
  registry.registerComponent('securitySchemes', 'apiKey', { type: 'http', scheme: 'bearer', description: 'A Hangar API key' });
  // Inline, not registered: registering calls `.openapi()`, which zod 4 schemas built before
  // extendZodWithOpenApi ran (all of shared/domain) do not have.
  const error = errorSchema();
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
      ...(route.body ? { body: { ...(route.bodyRequired ? { required: true } : {}), content: { 'application/json': { schema: route.body } } } } : {}),
      ...(requestHeaders(route) ? { headers: requestHeaders(route) } : {}),
    },
    responses: {
      200: {
        description: 'Success: `{ "success": true, ... }`',
        ...(route.versioned && route.method !== 'DELETE'
          ? { headers: { ETag: { description: 'The item\'s version as an entity tag, e.g. `"7"`; send it back in If-Match to make a change conditional', schema: { type: 'string' as const } } } }
          : {}),
      },
      400: errorResponse('Invalid request'),
      ...(route.auth ? { 401: errorResponse('Missing or invalid API key'), 403: errorResponse('Role not allowed') } : {}),
      404: errorResponse('Not found (or not yours)'),
      ...(conditional(route) ? { 412: errorResponse('If-Match named a version the item is no longer at (PRECONDITION_FAILED): read it again') } : {}),
    },
  };
}

/** PATCH and DELETE of a versioned item honour If-Match. */
const conditional = (route: RouteDefinition) => route.versioned === true && (route.method === 'PATCH' || route.method === 'DELETE');

function requestHeaders(route: RouteDefinition) {
  const headers = {
    ...(route.idempotent ? { 'idempotency-key': z.string().optional() } : {}),
    ...(conditional(route)
      ? { 'if-match': z.string().optional().describe('Only if the item is still at this ETag (e.g. `"7"`); else 412. Without it a tag change is merged into what is there') }
      : {}),
  };
  return Object.keys(headers).length ? z.object(headers) : undefined;
}
