import { describe, expect, it } from 'vitest';
import { buildOpenApiDocument } from '../../../shared/http/openapi.ts';
import { ROUTES } from '../../../shared/http/routes.ts';

const doc = (await buildOpenApiDocument()) as {
  openapi: string;
  paths: Record<string, Record<string, { operationId: string; requestBody?: unknown; security?: unknown }>>;
};

describe('the OpenAPI document', () => {
  it('describes every route of the route table, under its operation id', () => {
    expect(doc.openapi).toBe('3.1.0');
    for (const route of ROUTES) {
      const operation = doc.paths[route.path]?.[route.method.toLowerCase()];
      expect(operation?.operationId, `${route.method} ${route.path}`).toBe(route.operationId);
      expect(Boolean(operation?.security), `${route.operationId} security`).toBe(route.auth);
    }
  });

  it('carries the request schemas that validate requests', () => {
    const create = doc.paths['/api/instances']!.post!;
    expect(JSON.stringify(create.requestBody)).toContain('autoTerminateMinutes');
    expect(JSON.stringify(doc.paths['/api/accounts']!.post!.requestBody)).toContain('credentials');
  });
});
