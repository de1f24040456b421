/**
 * What every store of business actions must do, whichever repository writes them: an action
 * given with a change lands with it, and not at all when the change is refused; the log reads
 * newest first by client or across clients, filtered, in stable cursor pages.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NewBusinessAction } from '../../shared/domain/business-actions.ts';
import type { Client } from '../../shared/domain/client.ts';
import { applyAction } from '../../shared/domain/instance.ts';
import type { BusinessActionRepository } from '../../shared/ports/business-action-repository.ts';
import type { ClientRepository } from '../../shared/ports/client-repository.ts';
import type { InstanceRepository } from '../../shared/ports/instance-repository.ts';
import { makeInstance } from '../support/fakes.ts';
import { collectPages } from './instance-repository.contract.ts';

export interface BusinessActionSubject {
  actions: BusinessActionRepository;
  instances: InstanceRepository;
  clients: ClientRepository;
  cleanup: () => Promise<void>;
}

export function runBusinessActionContract(name: string, makeSubject: () => Promise<BusinessActionSubject>): void {
  describe(`business actions contract: ${name}`, () => {
    let s: BusinessActionSubject;
    beforeAll(async () => {
      s = await makeSubject();
    });
    afterAll(async () => {
      await s?.cleanup();
    });

    const suffix = Math.random().toString(36).slice(2, 8);
    const client = (id: string): Client => ({
      clientId: `${id}-${suffix}`,
      name: `${id} ${suffix}`,
      nameKey: `${id} ${suffix}`,
      status: 'active',
      maxInstances: 1,
      maxAutoTerminateMinutes: 120,
      createdAt: '2026-02-01T10:00:00.000Z',
      updatedAt: '2026-02-01T10:00:00.000Z',
      version: 1,
    });
    const act = (clientId: string, action: string, target: string, at: string): NewBusinessAction => ({ actor: 'key:k1', clientId, action, target, details: { n: 1 }, at });

    it('writes each action with its change, and nothing for a refused change', async () => {
      const a = client('ba-a');
      await s.clients.create(a, act(a.clientId, 'client.create', `client:${a.clientId}`, '2026-02-01T10:00:00.000Z'));
      const first = makeInstance({ clientId: a.clientId, id: `vps-one-${suffix}`, createdAt: '2026-02-01T10:01:00.000Z', updatedAt: '2026-02-01T10:01:00.000Z' });
      await s.instances.create(first, { type: 'instance.created', actor: 'key:k1', message: 'm' }, { maxLive: 1 }, act(a.clientId, 'instance.create', `instance:${first.id}`, '2026-02-01T10:01:00.000Z'));
      const second = makeInstance({ clientId: a.clientId, id: `vps-two-${suffix}`, createdAt: '2026-02-01T10:02:00.000Z', updatedAt: '2026-02-01T10:02:00.000Z' });
      await expect(
        s.instances.create(second, { type: 'instance.created', actor: 'key:k1', message: 'm' }, { maxLive: 1 }, act(a.clientId, 'instance.create', `instance:${second.id}`, '2026-02-01T10:02:00.000Z')),
      ).rejects.toMatchObject({ code: 'QUOTA_EXCEEDED' });
      const after = applyAction(first, 'reserve', new Date('2026-02-01T10:03:00.000Z'));
      await s.instances.save(first, after, [], act(a.clientId, 'instance.reserve', `instance:${first.id}`, '2026-02-01T10:03:00.000Z'));
      // A stale save is refused, and so is its action.
      await expect(s.instances.save(first, after, [], act(a.clientId, 'instance.stale', `instance:${first.id}`, '2026-02-01T10:04:00.000Z'))).rejects.toMatchObject({ code: 'VERSION_CONFLICT' });

      const { items } = await s.actions.list({ clientId: a.clientId }, { limit: 10 });
      expect(items.map((i) => i.action)).toEqual(['instance.reserve', 'instance.create', 'client.create']);
      expect(items[0]).toMatchObject({ actor: 'key:k1', clientId: a.clientId, target: `instance:${first.id}`, details: { n: 1 }, at: '2026-02-01T10:03:00.000Z' });
      expect(typeof items[0]!.actionId).toBe('string');
    });

    it('reads across clients newest first, filtered by action, actor and [from, to), in cursor pages', async () => {
      const b = client('ba-b');
      await s.clients.create(b, act(b.clientId, 'client.create', `client:${b.clientId}`, '2026-02-01T11:00:00.000Z'));
      await s.clients.save(b, { ...b, maxInstances: 5, version: 2, updatedAt: '2026-02-01T11:05:00.000Z' }, { ...act(b.clientId, 'client.update', `client:${b.clientId}`, '2026-02-01T11:05:00.000Z'), actor: 'key:k2' });

      const window = { from: '2026-02-01T10:00:00.000Z', to: '2026-02-01T12:00:00.000Z' };
      const { items, cursors } = await collectPages((cursor) => s.actions.list(window, { limit: 2, ...(cursor ? { cursor } : {}) }), 2);
      const mine = items.filter((i) => i.clientId.endsWith(suffix)).map((i) => i.action);
      expect(mine).toEqual(['client.update', 'client.create', 'instance.reserve', 'instance.create', 'client.create']);
      expect(cursors.at(-1)).toBeNull();
      const unfiltered = await s.actions.list({}, { limit: 100 });
      expect(unfiltered.items.filter((i) => i.clientId.endsWith(suffix)).map((i) => i.action)).toEqual(mine);

      expect((await s.actions.list({ clientId: b.clientId, actor: 'k2' }, { limit: 10 })).items.map((i) => i.action)).toEqual(['client.update']);
      expect((await s.actions.list({ clientId: b.clientId, action: 'client' }, { limit: 10 })).items).toHaveLength(2);
      expect((await s.actions.list({ clientId: b.clientId, from: '2026-02-01T11:05:00.000Z' }, { limit: 10 })).items.map((i) => i.action)).toEqual(['client.update']);
      expect((await s.actions.list({ clientId: b.clientId, to: '2026-02-01T11:05:00.000Z' }, { limit: 10 })).items.map((i) => i.action)).toEqual(['client.create']);
      await expect(s.actions.list({ clientId: b.clientId }, { limit: 1, cursor: 'garbage' })).rejects.toMatchObject({ code: 'VALIDATION_ERROR' });
    });
  });
}
