import { builtOnFirstUse } from './built-on-first-use.ts';
import { z } from './zod.ts';
import { pageQuerySchema } from './schemas.ts';
import { WEBHOOK_STATUSES } from './webhooks.ts';

/** `*`, an exact type (`instance.ready`) or a prefix (`instance.*`): lowercase words and dots. */
const EVENT_PATTERN = /^(\*|[a-z][a-z0-9-]*(\.[a-z0-9-]+)*(\.\*)?)$/;

const url = builtOnFirstUse(() =>
  z
    .string({ error: 'url is required' })
    .trim()
    .min(1, 'url is required')
    .max(2048, 'url must be at most 2048 characters')
    .describe('Where events are POSTed: http(s). Deployed stages refuse loopback, private and link-local targets.'),
);

const events = builtOnFirstUse(() =>
  z
    .array(z.string().regex(EVENT_PATTERN, 'each event must be a type such as instance.ready, a prefix such as instance.*, or *'), {
      error: 'events must be a list of event types',
    })
    .min(1, 'events must name at least one event type (instance.* for all instance events)')
    .max(50, 'at most 50 event types')
    .describe('Types (instance.ready), prefixes (instance.*) or *; see docs/events.md'),
);

const description = builtOnFirstUse(() => z.string().max(256, 'description must be at most 256 characters'));
const clientId = builtOnFirstUse(() => z.string().min(1).max(128));

export const createWebhookSchema = builtOnFirstUse(() =>
  z
    .object({
      url,
      events: events.default(['instance.*']),
      description: description.optional(),
      clientId: clientId.optional().describe('The client this endpoint belongs to (platform admin only)'),
    })
    .strict(),
);
export type CreateWebhookRequest = z.infer<typeof createWebhookSchema>;

export const updateWebhookSchema = builtOnFirstUse(() =>
  z
    .object({
      url: url.optional(),
      events: events.optional(),
      description: description.optional(),
      status: z.enum(WEBHOOK_STATUSES, { error: 'status is enabled or disabled' }).optional(),
      rotateSecret: z.boolean().optional().describe('true: a new secret, answered once; the old one keeps signing beside it for 24 h'),
    })
    .strict()
    .refine((body) => Object.keys(body).length > 0, 'nothing to change: give url, events, description, status or rotateSecret'),
);
export type UpdateWebhookRequest = z.infer<typeof updateWebhookSchema>;

export const webhookScopeQuerySchema = builtOnFirstUse(() => z.object({ clientId: clientId.optional() }));
export const listWebhooksQuerySchema = builtOnFirstUse(() => pageQuerySchema.extend({ clientId: clientId.optional() }));
