import { HttpWebhookTransport } from '../../shared/adapters/webhooks/http-transport.ts';
import { secretBoxOnFirstUse } from '../../shared/config/on-first-use/secret-box.ts';
import { webhookQueueOnFirstUse } from '../../shared/config/on-first-use/webhook-queue.ts';
import { composeHangar, type AppDependencies } from '../../shared/config/composition.ts';
import { tableFromEnvironment } from '../../shared/db/db.ts';
import { httpApi, type RouteHandlers } from '../../shared/http/http-api.ts';
import { presentDelivery, presentWebhook } from '../../shared/http/present-webhooks.ts';
import { accepted, created, ok } from '../../shared/http/responses.ts';
import { withETag, writeConditions } from '../../shared/http/preconditions.ts';

export const routes: RouteHandlers<AppDependencies> = {
  createWebhook: async ({ principal, body, deps }) => {
    const { endpoint, secret } = await deps.services.webhooks.create(principal, body);
    return created({ webhook: presentWebhook(endpoint, secret) });
  },

  listWebhooks: async ({ principal, query, deps }) => {
    const page = await deps.services.webhooks.list(principal, query);
    return ok({ webhooks: page.items.map((e) => presentWebhook(e)), count: page.items.length, nextCursor: page.cursor });
  },

  getWebhook: async ({ principal, params, query, deps }) => {
    const endpoint = await deps.services.webhooks.get(principal, params.id!, query);
    return withETag(ok({ webhook: presentWebhook(endpoint) }), endpoint.version);
  },

  updateWebhook: async ({ principal, params, body, query, headers, deps }) => {
    const { endpoint, secret } = await deps.services.webhooks.update(principal, params.id!, body, query, writeConditions(headers));
    return withETag(ok({ webhook: presentWebhook(endpoint, secret) }), endpoint.version);
  },

  deleteWebhook: async ({ principal, params, query, headers, deps }) => {
    return ok({ webhook: presentWebhook(await deps.services.webhooks.remove(principal, params.id!, query, writeConditions(headers))) });
  },

  testWebhook: async ({ principal, params, query, deps }) => {
    return accepted({ delivery: presentDelivery(await deps.services.webhooks.sendTest(principal, params.id!, query)) });
  },

  listWebhookDeliveries: async ({ principal, params, query, deps }) => {
    const page = await deps.services.webhooks.deliveries(principal, params.id!, query);
    return ok({ deliveries: page.items.map(presentDelivery), count: page.items.length, nextCursor: page.cursor });
  },
};

/** Webhook endpoints: secrets sealed on the way in, shown once; a test event goes through the delivery queue. */
export const handler = httpApi('webhooks', routes, () =>
  composeHangar({
    db: tableFromEnvironment(),
    secretBox: secretBoxOnFirstUse(),
    webhookTransport: HttpWebhookTransport.fromEnvironment(),
    webhookQueue: webhookQueueOnFirstUse,
  }),
);
