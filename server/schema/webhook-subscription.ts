// WebhookSubscription: where and what to deliver. (`Subscription` is GraphQL's root type.)
import { NotFoundError, ValidationError, isUuid } from '../../core/errors.ts';
import {
  createWebhookSubscription,
  deleteWebhookSubscription,
  updateWebhookSubscription,
} from '../../core/subscriptions.ts';
import { rotateWebhookSubscriptionSecret } from '../../core/secrets.ts';
import type { WebhookSubscription } from '../../core/db.ts';
import { referencedRow } from '../selection.ts';
import { builder } from './builder.ts';
import { connectionOptions } from './errors.ts';
import { DeliveryAttemptConnection, DeliveryAttemptRef } from './delivery-attempt.ts';
import { DeliveryStatsRef, DeliveryTimelineBucketRef, EventStatusCountRef, checkedWindow, statsArgs } from './stats.ts';
import { deliveryTimeline } from '../../core/stats.ts';
import { EventConnection, EventStatusEnum } from './event.ts';

export const WebhookSubscriptionStatusEnum = builder.enumType('WebhookSubscriptionStatus', {
  values: ['ACTIVE', 'PAUSED', 'DISABLED'] as const,
});

export const WebhookSubscriptionRef = builder.prismaObject('WebhookSubscription', {
  name: 'WebhookSubscription',
  fields: (t) => ({
    id: t.exposeID('id'),
    name: t.exposeString('name'),
    targetUrl: t.exposeString('targetUrl'),
    eventTypes: t.exposeStringList('eventTypes'),
    status: t.expose('status', { type: WebhookSubscriptionStatusEnum }),
    secret: t.exposeString('secret'),
    previousSecretExpiresAt: t.field({
      type: 'DateTime',
      nullable: true,
      description: 'After a rotation: until when requests also carry a signature made with the previous secret.',
      select: { previousSecretExpiresAt: true },
      resolve: ({ previousSecretExpiresAt: until }) => (until && new Date(until) > new Date() ? until : null),
    }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
    events: t.relatedConnection('events', {
      ...connectionOptions,
      description: 'Newest first.',
      args: { status: t.arg({ type: EventStatusEnum, required: false }) },
      query: (args) => ({
        where: args.status ? { status: args.status } : {},
        // subscriptionId first (one value here): only the (subscriptionId, createdAt, id) index
        // gives this order, so the planner cannot walk the global createdAt index instead.
        orderBy: [{ subscriptionId: 'asc' }, { createdAt: 'desc' }, { id: 'desc' }],
      }),
    }, EventConnection),
    lastAttempt: t.field({
      type: DeliveryAttemptRef,
      nullable: true,
      description: 'The most recent delivery attempt.',
      // A loader, not a nested Prisma selection: Prisma applies `take` per parent in memory,
      // after reading every attempt of every subscription on the page.
      resolve: (subscription, _args, ctx) => ctx.loaders.lastAttempt(subscription.id),
    }),
    stats: t.field({
      type: DeliveryStatsRef,
      description: 'Attempts of the last `hours` (1 to 720).',
      args: { hours: t.arg.int({ defaultValue: statsArgs.hours.default }) },
      resolve: (subscription, args, ctx) =>
        ctx.loaders.subscriptionStats(`${subscription.id}:${checkedWindow('hours', args.hours ?? statsArgs.hours.default, statsArgs.hours.max)}`),
    }),
    timeline: t.field({
      type: [DeliveryTimelineBucketRef],
      description: 'Per minute over the last `minutes` (1 to 1440), oldest first, empty minutes included.',
      args: { minutes: t.arg.int({ defaultValue: statsArgs.minutes.default }) },
      resolve: (subscription, args, ctx) =>
        deliveryTimeline(ctx.services.db, subscription.id, checkedWindow('minutes', args.minutes ?? statsArgs.minutes.default, statsArgs.minutes.max)),
    }),
    eventCounts: t.field({
      type: [EventStatusCountRef],
      description: 'How many of its events are in each status (every status, zeros included).',
      resolve: (subscription, _args, ctx) => ctx.loaders.eventCounts(subscription.id),
    }),
    attempts: t.relatedConnection('attempts', {
      ...connectionOptions,
      description: 'Newest first.',
      query: () => ({ orderBy: [{ attemptedAt: 'desc' }, { id: 'desc' }] }),
    }, DeliveryAttemptConnection),
  }),
});

// The subscription of an attempt or an event: just its id when that is all the query asks (live
// updates, fan-out answers: the row holds it), else from a per-request loader, one query per list.
// Plain fields, not Prisma relations, which look up for every row how its parent was loaded only
// to come here. Defined here, beside the type they return, since that type refers to both.
builder.prismaObjectField('DeliveryAttempt', 'subscription', (t) =>
  t.field({
    type: WebhookSubscriptionRef,
    resolve: (attempt, _args, ctx, info) => referencedRow(info, attempt.subscriptionId, ctx.loaders.subscription),
  }),
);
builder.prismaObjectField('Event', 'subscription', (t) =>
  t.field({
    type: WebhookSubscriptionRef,
    resolve: (event, _args, ctx, info) => referencedRow(info, event.subscriptionId, ctx.loaders.subscription),
  }),
);

export const WebhookSubscriptionConnection = builder.connectionObject(
  { type: WebhookSubscriptionRef, name: 'WebhookSubscriptionConnection' },
  { name: 'WebhookSubscriptionEdge' },
);

const DeletedWebhookSubscription = builder.objectRef<{ id: string }>('DeletedWebhookSubscription').implement({
  fields: (t) => ({ id: t.exposeID('id') }),
});

const CreateWebhookSubscriptionInput = builder.inputType('CreateWebhookSubscriptionInput', {
  fields: (t) => ({
    targetUrl: t.string({ required: true }),
    eventTypes: t.stringList({ description: 'Empty or absent: every event type. `order.*` matches by prefix.' }),
    secret: t.string({ description: '`whsec_` + base64 of 24 to 64 bytes; generated when absent.' }),
    name: t.string(),
  }),
});

const UpdateWebhookSubscriptionInput = builder.inputType('UpdateWebhookSubscriptionInput', {
  fields: (t) => ({
    targetUrl: t.string(),
    eventTypes: t.stringList(),
    name: t.string(),
    status: t.field({ type: WebhookSubscriptionStatusEnum }),
  }),
});

builder.queryFields((t) => ({
  webhookSubscriptions: t.prismaConnection({
    type: 'WebhookSubscription',
    ...connectionOptions,
    description: 'Newest first.',
    resolve: (query, _root, _args, ctx) =>
      ctx.services.db.webhookSubscription.findMany({ ...query, orderBy: [{ createdAt: 'desc' }, { id: 'desc' }] }),
  }, WebhookSubscriptionConnection),
  webhookSubscription: t.prismaField({
    type: 'WebhookSubscription',
    nullable: true,
    args: { id: t.arg.id({ required: true }) },
    resolve: (query, _root, args, ctx) =>
      isUuid(args.id) ? ctx.services.db.webhookSubscription.findUnique({ ...query, where: { id: args.id } }) : null,
  }),
}));

builder.mutationFields((t) => ({
  createWebhookSubscription: t.field({
    type: WebhookSubscriptionRef,
    args: { input: t.arg({ type: CreateWebhookSubscriptionInput, required: true }) },
    errors: { types: [ValidationError], union: { name: 'CreateWebhookSubscriptionResult' } },
    resolve: (_root, args, ctx) => createWebhookSubscription(ctx.services, args.input),
  }),
  updateWebhookSubscription: t.field({
    type: WebhookSubscriptionRef,
    args: { id: t.arg.id({ required: true }), input: t.arg({ type: UpdateWebhookSubscriptionInput, required: true }) },
    errors: { types: [ValidationError, NotFoundError], union: { name: 'UpdateWebhookSubscriptionResult' } },
    resolve: (_root, args, ctx) => updateWebhookSubscription(ctx.services, args.id, args.input),
  }),
  rotateWebhookSubscriptionSecret: t.field({
    type: WebhookSubscriptionRef,
    description: 'Issues a new secret; for SECRET_ROTATION_GRACE requests carry signatures with both the new and the old one.',
    args: { id: t.arg.id({ required: true }) },
    errors: { types: [NotFoundError], union: { name: 'RotateWebhookSubscriptionSecretResult' } },
    resolve: (_root, args, ctx) => rotateWebhookSubscriptionSecret(ctx.services, args.id),
  }),
  deleteWebhookSubscription: t.field({
    type: DeletedWebhookSubscription,
    args: { id: t.arg.id({ required: true }) },
    errors: { types: [NotFoundError], union: { name: 'DeleteWebhookSubscriptionResult' } },
    resolve: (_root, args, ctx) => deleteWebhookSubscription(ctx.services, args.id),
  }),
}));

builder.subscriptionFields((t) => ({
  webhookSubscriptionUpdated: t.field({
    type: WebhookSubscriptionRef,
    description: 'Every change of a subscription (or of one): edits, pause/resume, rotation, auto-disable.',
    args: { id: t.arg.id() },
    subscribe: (_root, args, ctx) => ctx.subscriber.watch('subscription-updated', { subscriptionId: args.id }),
    resolve: (subscription) => subscription as unknown as WebhookSubscription,
  }),
}));
