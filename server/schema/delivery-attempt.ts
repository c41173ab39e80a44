// DeliveryAttempt: one HTTP POST of an event and what came of it.
import { isUuid } from '../../core/errors.ts';
import type { DeliveryAttempt } from '../../core/db.ts';
import { referencedRow } from '../selection.ts';
import { builder } from './builder.ts';
import { connectionOptions } from './errors.ts';
import { EventRef } from './event.ts';

const HttpHeader = builder.objectRef<{ name: string; value: string }>('HttpHeader').implement({
  fields: (t) => ({ name: t.exposeString('name'), value: t.exposeString('value') }),
});

export const DeliveryAttemptRef = builder.prismaObject('DeliveryAttempt', {
  fields: (t) => ({
    id: t.exposeID('id'),
    // From a per-request loader (one query per list), or, for `event { id }` (the subscriptions
    // page's last attempts), from the attempt's own reference with no load at all. A plain field,
    // not a Prisma relation: that looks up, for every row, how its parent was loaded, only to come
    // here (with `subscription`: 6% of the subscriptions page's server time in a CPU profile).
    event: t.field({
      type: EventRef,
      resolve: (attempt, _args, ctx, info) => referencedRow(info, attempt.eventId, ctx.loaders.event),
    }),
    attemptNumber: t.exposeInt('attemptNumber'),
    attemptedAt: t.expose('attemptedAt', { type: 'DateTime' }),
    durationMs: t.exposeInt('durationMs'),
    success: t.exposeBoolean('success'),
    responseStatus: t.exposeInt('responseStatus', { nullable: true }),
    responseBody: t.exposeString('responseBody', { nullable: true, description: 'The first 4 KiB.' }),
    error: t.exposeString('error', { nullable: true }),
    // subscription: beside WebhookSubscription's type (webhook-subscription.ts).
    requestHeaders: t.field({
      type: [HttpHeader],
      description: 'The request headers as sent (empty for attempts recorded before they were kept).',
      resolve: (attempt) =>
        Object.entries((attempt.requestHeaders ?? {}) as Record<string, string>).map(([name, value]) => ({ name, value: String(value) })),
    }),
    nextAttemptAt: t.expose('nextAttemptAt', {
      type: 'DateTime',
      nullable: true,
      description: 'When this failure scheduled the next try; null after a success or the last try.',
    }),
  }),
});

export const DeliveryAttemptConnection = builder.connectionObject(
  { type: DeliveryAttemptRef, name: 'DeliveryAttemptConnection' },
  { name: 'DeliveryAttemptEdge' },
);

builder.queryFields((t) => ({
  deliveryAttempts: t.prismaConnection({
    type: 'DeliveryAttempt',
    ...connectionOptions,
    description: 'Newest first.',
    args: { subscriptionId: t.arg.id(), eventId: t.arg.id() },
    resolve: (query, _root, args, ctx) => {
      if ((args.subscriptionId != null && !isUuid(args.subscriptionId)) || (args.eventId != null && !isUuid(args.eventId))) return [];
      return ctx.services.db.deliveryAttempt.findMany({
        ...query,
        where: { subscriptionId: args.subscriptionId ?? undefined, eventId: args.eventId ?? undefined },
        orderBy: [{ attemptedAt: 'desc' }, { id: 'desc' }],
      });
    },
  }, DeliveryAttemptConnection),
}));

builder.subscriptionFields((t) => ({
  // A plain field, as the other live updates: the root value is the row, and a prismaField
  // would work out a Prisma query from the selection for every update only to drop it.
  deliveryAttemptRecorded: t.field({
    type: DeliveryAttemptRef,
    description: "Every attempt as it is recorded, optionally of one subscription's or one event's.",
    args: { subscriptionId: t.arg.id(), eventId: t.arg.id() },
    subscribe: (_root, args, ctx) =>
      ctx.subscriber.watch('attempt-recorded', {
        subscriptionId: args.subscriptionId,
        filter: (attempt) => args.eventId == null || attempt.eventId === args.eventId,
      }),
    resolve: (attempt) => attempt as unknown as DeliveryAttempt,
  }),
}));
