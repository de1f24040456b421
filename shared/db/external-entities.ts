import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { Entity } from 'electrodb';
import { KEY_TEMPLATES } from './keys.ts';

const none = 'none' as const;

/**
 * EXTERNAL registrations on the one table, all in one partition (`EXTERNAL` / `REG#<instance
 * id>`): listOwned reads them with one Query. Endpoints a deployment watches number in the
 * hundreds; a registration is written once and deleted once.
 */
export function createExternalEntities(client: DynamoDBDocumentClient, table: string) {
  const registration = new Entity(
    {
      model: { entity: 'externalRegistration', version: '1', service: 'hangar' },
      attributes: {
        entityType: { type: 'string', default: 'externalRegistration', readOnly: true, required: true },
        instanceId: { type: 'string', required: true, readOnly: true },
        providerInstanceId: { type: 'string', required: true, readOnly: true },
        endpoint: { type: 'string', required: true, readOnly: true },
        healthPath: { type: 'string', readOnly: true },
        clientId: { type: 'string', required: true, readOnly: true },
        name: { type: 'string', required: true, readOnly: true },
        region: { type: 'string', required: true, readOnly: true },
        tags: { type: 'any', required: true, readOnly: true },
        registeredAt: { type: 'string', required: true, readOnly: true },
        version: { type: 'number', required: true, default: 1 },
      },
      indexes: {
        all: {
          pk: { field: 'pk', composite: [], template: KEY_TEMPLATES.externalRegistration.pk, casing: none },
          sk: { field: 'sk', composite: ['instanceId'], template: KEY_TEMPLATES.externalRegistration.sk, casing: none },
        },
      },
    },
    { client, table },
  );
  return { registration };
}

export type ExternalEntities = ReturnType<typeof createExternalEntities>;
