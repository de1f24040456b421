import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { Entity } from 'electrodb';
import { builtOnFirstRead } from '../config/lazy.ts';
import { PROVIDERS } from '../domain/catalog.ts';
import { SYNC_JOB_STATUSES, SYNC_RESOURCE_TYPES } from '../domain/sync.ts';
import { DUE_KINDS } from './due-entries.ts';
import { ACCOUNT_ATTRIBUTES, API_KEY_ATTRIBUTES, CLIENT_ATTRIBUTES, entityType, INSTANCE_ATTRIBUTES, version } from './attributes.ts';
import { KEY_TEMPLATES } from './keys.ts';

/**
 * Single-table entities. Keys follow DESIGN.md's sketch through the templates of ./keys.ts, with
 * casing kept as written; every entity carries `entityType` and an item `version` for optimistic
 * concurrency.
 */
const SERVICE = 'hangar';
const none = 'none' as const;


export function createEntities(client: DynamoDBDocumentClient, table: string) {
  const config = { client, table };

  const clientEntity = () =>
    new Entity(
    {
      model: { entity: 'client', version: '1', service: SERVICE },
      attributes: CLIENT_ATTRIBUTES,
      indexes: {
        byId: {
          pk: { field: 'pk', composite: ['clientId'], template: KEY_TEMPLATES.client.pk, casing: none },
          sk: { field: 'sk', composite: [], template: KEY_TEMPLATES.client.sk, casing: none },
        },
        all: {
          index: 'gsi2',
          pk: { field: 'gsi2pk', composite: [], template: KEY_TEMPLATES.clientsByName.pk, casing: none },
          sk: { field: 'gsi2sk', composite: ['nameKey', 'clientId'], template: KEY_TEMPLATES.clientsByName.sk, casing: none },
        },
      },
    },
    config,
  );

  /** Uniqueness marker: a client name is taken while this item exists. */
  const clientNameEntity = () =>
    new Entity(
    {
      model: { entity: 'clientName', version: '1', service: SERVICE },
      attributes: {
        entityType: entityType('clientName'),
        nameKey: { type: 'string', required: true, readOnly: true },
        clientId: { type: 'string', required: true },
      },
      indexes: {
        byName: {
          pk: { field: 'pk', composite: ['nameKey'], template: KEY_TEMPLATES.clientName.pk, casing: none },
          sk: { field: 'sk', composite: [], template: KEY_TEMPLATES.clientName.sk, casing: none },
        },
      },
    },
    config,
  );

  const apiKeyEntity = () =>
    new Entity(
    {
      model: { entity: 'apiKey', version: '1', service: SERVICE },
      attributes: API_KEY_ATTRIBUTES,
      indexes: {
        byHash: {
          pk: { field: 'pk', composite: ['keyHash'], template: KEY_TEMPLATES.apiKey.pk, casing: none },
          sk: { field: 'sk', composite: [], template: KEY_TEMPLATES.apiKey.sk, casing: none },
        },
        byClient: {
          index: 'gsi1',
          pk: { field: 'gsi1pk', composite: ['clientId'], template: KEY_TEMPLATES.apiKeysByClient.pk, casing: none },
          sk: { field: 'gsi1sk', composite: ['createdAt', 'keyId'], template: KEY_TEMPLATES.apiKeysByClient.sk, casing: none },
        },
      },
    },
    config,
  );

  const instanceEntity = () =>
    new Entity(
    {
      model: { entity: 'instance', version: '1', service: SERVICE },
      attributes: INSTANCE_ATTRIBUTES,
      indexes: {
        byClient: {
          pk: { field: 'pk', composite: ['clientId'], template: KEY_TEMPLATES.instance.pk, casing: none },
          sk: { field: 'sk', composite: ['id'], template: KEY_TEMPLATES.instance.sk, casing: none },
        },
        byId: {
          index: KEY_TEMPLATES.instanceById.index,
          pk: { field: 'gsi1pk', composite: ['id'], template: KEY_TEMPLATES.instanceById.pk, casing: none },
          sk: { field: 'gsi1sk', composite: [], template: KEY_TEMPLATES.instanceById.sk, casing: none },
        },
        byClientStatus: {
          index: KEY_TEMPLATES.instancesByClientStatus.index,
          pk: { field: 'gsi2pk', composite: ['clientId', 'status'], template: KEY_TEMPLATES.instancesByClientStatus.pk, casing: none },
          sk: { field: 'gsi2sk', composite: ['createdAt', 'id'], template: KEY_TEMPLATES.instancesByClientStatus.sk, casing: none },
        },
        byStatus: {
          index: KEY_TEMPLATES.instancesByStatus.index,
          pk: { field: 'gsi3pk', composite: ['status'], template: KEY_TEMPLATES.instancesByStatus.pk, casing: none },
          sk: { field: 'gsi3sk', composite: ['provider', 'createdAt', 'id'], template: KEY_TEMPLATES.instancesByStatus.sk, casing: none },
        },
      },
    },
    config,
  );

  /**
   * An instance's tag as an index entry: a tag-filtered page queries its tag's partition of
   * gsi1 (key=value) or gsi2 (key) and reads only the instances it returns, at any client size.
   * Written in the same transaction as the tag change; readers check the instance itself.
   */
  const instanceTagEntity = () =>
    new Entity(
    {
      model: { entity: 'instanceTag', version: '1', service: SERVICE },
      attributes: {
        entityType: entityType('instanceTag'),
        id: { type: 'string', required: true, readOnly: true },
        clientId: { type: 'string', required: true, readOnly: true },
        tagKey: { type: 'string', required: true, readOnly: true },
        tagValue: { type: 'string', required: true },
      },
      indexes: {
        byInstance: {
          pk: { field: 'pk', composite: ['id'], template: KEY_TEMPLATES.instanceTag.pk, casing: none },
          sk: { field: 'sk', composite: ['tagKey'], template: KEY_TEMPLATES.instanceTag.sk, casing: none },
        },
        byTag: {
          index: KEY_TEMPLATES.instancesByTag.index,
          pk: { field: 'gsi1pk', composite: ['clientId', 'tagKey', 'tagValue'], template: KEY_TEMPLATES.instancesByTag.pk, casing: none },
          sk: { field: 'gsi1sk', composite: ['id'], template: KEY_TEMPLATES.instancesByTag.sk, casing: none },
        },
        byTagKey: {
          index: KEY_TEMPLATES.instancesByTagKey.index,
          pk: { field: 'gsi2pk', composite: ['clientId', 'tagKey'], template: KEY_TEMPLATES.instancesByTagKey.pk, casing: none },
          sk: { field: 'gsi2sk', composite: ['id'], template: KEY_TEMPLATES.instancesByTagKey.sk, casing: none },
        },
      },
    },
    config,
  );

  /** What an instance was created as (type, provider, user), as index entries: filters by index, not by filter expression. */
  const instanceFacetsEntity = () =>
    new Entity(
    {
      model: { entity: 'instanceFacets', version: '1', service: SERVICE },
      attributes: {
        entityType: entityType('instanceFacets'),
        id: { type: 'string', required: true, readOnly: true },
        clientId: { type: 'string', required: true, readOnly: true },
        type: { type: 'string', required: true },
        provider: { type: PROVIDERS, required: true },
        userId: { type: 'string', required: true },
      },
      indexes: {
        byInstance: {
          pk: { field: 'pk', composite: ['id'], template: KEY_TEMPLATES.instanceFacets.pk, casing: none },
          sk: { field: 'sk', composite: [], template: KEY_TEMPLATES.instanceFacets.sk, casing: none },
        },
        byType: {
          index: KEY_TEMPLATES.instancesByType.index,
          pk: { field: 'gsi1pk', composite: ['clientId', 'type'], template: KEY_TEMPLATES.instancesByType.pk, casing: none },
          sk: { field: 'gsi1sk', composite: ['id'], template: KEY_TEMPLATES.instancesByType.sk, casing: none },
        },
        byProvider: {
          index: KEY_TEMPLATES.instancesByProvider.index,
          pk: { field: 'gsi2pk', composite: ['clientId', 'provider'], template: KEY_TEMPLATES.instancesByProvider.pk, casing: none },
          sk: { field: 'gsi2sk', composite: ['id'], template: KEY_TEMPLATES.instancesByProvider.sk, casing: none },
        },
        byUser: {
          index: KEY_TEMPLATES.instancesByUser.index,
          pk: { field: 'gsi3pk', composite: ['clientId', 'userId'], template: KEY_TEMPLATES.instancesByUser.pk, casing: none },
          sk: { field: 'gsi3sk', composite: ['id'], template: KEY_TEMPLATES.instancesByUser.sk, casing: none },
        },
      },
    },
    config,
  );

  /**
   * When a background pass comes due for an instance (see ./due-entries.ts), as an index entry:
   * the sweeper queries the due time's partitions of gsi3 up to now and reads nothing else.
   * Written, moved and removed in the same transaction as the instance change; the sweeper
   * checks each instance itself before acting.
   */
  const instanceDueEntity = () =>
    new Entity(
    {
      model: { entity: 'instanceDue', version: '1', service: SERVICE },
      attributes: {
        entityType: entityType('instanceDue'),
        id: { type: 'string', required: true, readOnly: true },
        clientId: { type: 'string', required: true, readOnly: true },
        kind: { type: DUE_KINDS, required: true, readOnly: true },
        shard: { type: 'string', required: true, readOnly: true },
        dueAt: { type: 'string', required: true },
      },
      indexes: {
        byInstance: {
          pk: { field: 'pk', composite: ['id'], template: KEY_TEMPLATES.instanceDue.pk, casing: none },
          sk: { field: 'sk', composite: ['kind'], template: KEY_TEMPLATES.instanceDue.sk, casing: none },
        },
        byDueTime: {
          index: KEY_TEMPLATES.dueByTime.index,
          pk: { field: 'gsi3pk', composite: ['kind', 'shard'], template: KEY_TEMPLATES.dueByTime.pk, casing: none },
          sk: { field: 'gsi3sk', composite: ['dueAt', 'clientId', 'id'], template: KEY_TEMPLATES.dueByTime.sk, casing: none },
        },
      },
    },
    config,
  );

  const eventEntity = () =>
    new Entity(
    {
      model: { entity: 'instanceEvent', version: '1', service: SERVICE },
      attributes: {
        entityType: entityType('instanceEvent'),
        eventId: { type: 'string', required: true, readOnly: true },
        instanceId: { type: 'string', required: true, readOnly: true },
        clientId: { type: 'string', required: true, readOnly: true },
        type: { type: 'string', required: true },
        action: { type: 'string' },
        fromStatus: { type: 'string' },
        toStatus: { type: 'string' },
        actor: { type: 'string', required: true },
        message: { type: 'string', required: true },
        data: { type: 'any' },
        at: { type: 'string', required: true },
        version,
      },
      indexes: {
        byInstance: {
          pk: { field: 'pk', composite: ['instanceId'], template: KEY_TEMPLATES.instanceEvent.pk, casing: none },
          sk: { field: 'sk', composite: ['eventId'], template: KEY_TEMPLATES.instanceEvent.sk, casing: none },
        },
        byClient: {
          index: 'gsi1',
          pk: { field: 'gsi1pk', composite: ['clientId'], template: KEY_TEMPLATES.eventsByClient.pk, casing: none },
          sk: { field: 'gsi1sk', composite: ['eventId'], template: KEY_TEMPLATES.eventsByClient.sk, casing: none },
        },
      },
    },
    config,
  );

  /** One health probe's verdict, kept a week: the history behind GET /instances/{id}/health. */
  const healthCheckEntity = () =>
    new Entity(
    {
      model: { entity: 'healthCheck', version: '1', service: SERVICE },
      attributes: {
        entityType: entityType('healthCheck'),
        instanceId: { type: 'string', required: true, readOnly: true },
        checkedAt: { type: 'string', required: true, readOnly: true },
        status: { type: ['HEALTHY', 'UNHEALTHY', 'ERROR'] as const, required: true },
        error: { type: 'string' },
        ttl: { type: 'number', required: true },
        version,
      },
      indexes: {
        byInstance: {
          pk: { field: 'pk', composite: ['instanceId'], template: KEY_TEMPLATES.healthCheck.pk, casing: none },
          sk: { field: 'sk', composite: ['checkedAt'], template: KEY_TEMPLATES.healthCheck.sk, casing: none },
        },
      },
    },
    config,
  );

  const metricEntity = () =>
    new Entity(
    {
      model: { entity: 'metricSample', version: '1', service: SERVICE },
      attributes: {
        entityType: entityType('metricSample'),
        instanceId: { type: 'string', required: true, readOnly: true },
        sampledAt: { type: 'string', required: true, readOnly: true },
        cpuPercent: { type: 'number', required: true },
        memoryBytes: { type: 'number', required: true },
        ttl: { type: 'number', required: true },
        version,
      },
      indexes: {
        byInstance: {
          pk: { field: 'pk', composite: ['instanceId'], template: KEY_TEMPLATES.metricSample.pk, casing: none },
          sk: { field: 'sk', composite: ['sampledAt'], template: KEY_TEMPLATES.metricSample.sk, casing: none },
        },
      },
    },
    config,
  );

  /** A tenant's provider account; credentials only sealed (see shared/ports/secret-box.ts). */
  const accountEntity = () =>
    new Entity(
    {
      model: { entity: 'account', version: '1', service: SERVICE },
      attributes: ACCOUNT_ATTRIBUTES,
      indexes: {
        byClient: {
          pk: { field: 'pk', composite: ['clientId'], template: KEY_TEMPLATES.account.pk, casing: none },
          sk: { field: 'sk', composite: ['accountId'], template: KEY_TEMPLATES.account.sk, casing: none },
        },
        byId: {
          index: 'gsi1',
          pk: { field: 'gsi1pk', composite: ['accountId'], template: KEY_TEMPLATES.accountById.pk, casing: none },
          sk: { field: 'gsi1sk', composite: [], template: KEY_TEMPLATES.accountById.sk, casing: none },
        },
        /** Every account of every client: what the periodic sync walks. */
        all: {
          index: 'gsi2',
          pk: { field: 'gsi2pk', composite: [], template: KEY_TEMPLATES.allAccounts.pk, casing: none },
          sk: { field: 'gsi2sk', composite: ['provider', 'accountId'], template: KEY_TEMPLATES.allAccounts.sk, casing: none },
        },
      },
    },
    config,
  );

  /**
   * One synced catalog entry. `scope` is the account (or `shared` for LOCAL): what one account
   * sees differs from another's. Entries gone at the provider keep their item with `deletedAt`.
   */
  const catalogItemEntity = () =>
    new Entity(
    {
      model: { entity: 'catalogItem', version: '1', service: SERVICE },
      attributes: {
        entityType: entityType('catalogItem'),
        provider: { type: PROVIDERS, required: true, readOnly: true },
        scope: { type: 'string', required: true, readOnly: true },
        region: { type: 'string', required: true, readOnly: true },
        kind: { type: 'string', required: true, readOnly: true },
        itemId: { type: 'string', required: true, readOnly: true },
        name: { type: 'string', required: true },
        hourlyMicros: { type: 'number' },
        attributes: { type: 'any', required: true },
        /** Hash of name, price and attributes: an unchanged item is never written again. */
        fingerprint: { type: 'string', required: true },
        /** The account's owner, or `shared`. */
        clientId: { type: 'string', required: true },
        firstSeenAt: { type: 'string', required: true },
        updatedAt: { type: 'string', required: true },
        deletedAt: { type: 'string' },
        syncJobId: { type: 'string', required: true },
      },
      indexes: {
        byTarget: {
          pk: { field: 'pk', composite: ['provider', 'scope', 'region'], template: KEY_TEMPLATES.catalogItem.pk, casing: none },
          sk: { field: 'sk', composite: ['kind', 'itemId'], template: KEY_TEMPLATES.catalogItem.sk, casing: none },
        },
      },
    },
    config,
  );

  /** One sync run; kept 30 days (ttl). */
  const syncJobEntity = () =>
    new Entity(
    {
      model: { entity: 'syncJob', version: '1', service: SERVICE },
      attributes: {
        entityType: entityType('syncJob'),
        jobId: { type: 'string', required: true, readOnly: true },
        resourceType: { type: SYNC_RESOURCE_TYPES, required: true, readOnly: true },
        provider: { type: PROVIDERS, required: true, readOnly: true },
        region: { type: 'string', required: true, readOnly: true },
        accountId: { type: 'string' },
        clientId: { type: 'string', required: true, readOnly: true },
        trigger: { type: ['schedule', 'request'] as const, required: true },
        requestedBy: { type: 'string' },
        status: { type: SYNC_JOB_STATUSES, required: true },
        queuedAt: { type: 'string', required: true },
        startedAt: { type: 'string' },
        completedAt: { type: 'string' },
        created: { type: 'number', required: true },
        updated: { type: 'number', required: true },
        deleted: { type: 'number', required: true },
        unchanged: { type: 'number', required: true },
        incremental: { type: 'boolean' },
        findings: { type: 'any' },
        errors: { type: 'list', items: { type: 'string' }, required: true },
        ttl: { type: 'number', required: true },
      },
      indexes: {
        byId: {
          pk: { field: 'pk', composite: [], template: KEY_TEMPLATES.syncJob.pk, casing: none },
          sk: { field: 'sk', composite: ['jobId'], template: KEY_TEMPLATES.syncJob.sk, casing: none },
        },
        byType: {
          index: 'gsi1',
          pk: { field: 'gsi1pk', composite: ['resourceType'], template: KEY_TEMPLATES.syncJobsByType.pk, casing: none },
          sk: { field: 'gsi1sk', composite: ['jobId'], template: KEY_TEMPLATES.syncJobsByType.sk, casing: none },
        },
        byClient: {
          index: 'gsi2',
          pk: { field: 'gsi2pk', composite: ['clientId'], template: KEY_TEMPLATES.syncJobsByClient.pk, casing: none },
          sk: { field: 'gsi2sk', composite: ['jobId'], template: KEY_TEMPLATES.syncJobsByClient.sk, casing: none },
        },
      },
    },
    config,
  );

  /** Per target and resource type: watermarks and suspects carried from one run to the next. */
  const syncStateEntity = () =>
    new Entity(
    {
      model: { entity: 'syncState', version: '1', service: SERVICE },
      attributes: {
        entityType: entityType('syncState'),
        targetKey: { type: 'string', required: true, readOnly: true },
        resourceType: { type: SYNC_RESOURCE_TYPES, required: true, readOnly: true },
        lastSucceededAt: { type: 'string' },
        lastFullAt: { type: 'string' },
        watermark: { type: 'string' },
        suspects: { type: 'any' },
        version,
      },
      indexes: {
        byTarget: {
          pk: { field: 'pk', composite: ['targetKey'], template: KEY_TEMPLATES.syncState.pk, casing: none },
          sk: { field: 'sk', composite: ['resourceType'], template: KEY_TEMPLATES.syncState.sk, casing: none },
        },
      },
    },
    config,
  );

  // Each entity is built on first use: building one validates its model (a few ms each), and a
  // request touches one or two of them, so a cold start pays for those only.
  return { entities: builtOnFirstRead({
    client: clientEntity,
    clientName: clientNameEntity,
    apiKey: apiKeyEntity,
    instance: instanceEntity,
    instanceTag: instanceTagEntity,
    instanceFacets: instanceFacetsEntity,
    instanceDue: instanceDueEntity,
    event: eventEntity,
    metric: metricEntity,
    healthCheck: healthCheckEntity,
    account: accountEntity,
    catalogItem: catalogItemEntity,
    syncJob: syncJobEntity,
    syncState: syncStateEntity,
  }) };
}

export type HangarService = ReturnType<typeof createEntities>;
