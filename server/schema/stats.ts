// Delivery aggregates for dashboards: counts, success rate, latency percentiles, per-minute series.
import { GraphQLError } from 'graphql';
import { isUuid } from '../../core/errors.ts';
import { MAX_STATS_HOURS, MAX_TIMELINE_MINUTES, deliveryStats, deliveryTimeline, type DeliveryStats, type TimelineBucket } from '../../core/stats.ts';
import { builder } from './builder.ts';
import { EventStatusEnum } from './event.ts';

export const DeliveryStatsRef = builder.objectRef<DeliveryStats>('DeliveryStats').implement({
  description: 'Delivery attempts over a window.',
  fields: (t) => ({
    attempts: t.exposeInt('attempts'),
    succeeded: t.exposeInt('succeeded'),
    failed: t.exposeInt('failed'),
    successRate: t.exposeFloat('successRate', { nullable: true, description: 'succeeded / attempts, from 0 to 1; null with no attempts.' }),
    p50DurationMs: t.exposeFloat('p50DurationMs', { nullable: true }),
    p95DurationMs: t.exposeFloat('p95DurationMs', { nullable: true }),
  }),
});

export const DeliveryTimelineBucketRef = builder.objectRef<TimelineBucket>('DeliveryTimelineBucket').implement({
  description: 'Attempts made in one minute.',
  fields: (t) => ({
    minute: t.expose('minute', { type: 'DateTime' }),
    succeeded: t.exposeInt('succeeded'),
    failed: t.exposeInt('failed'),
    p50DurationMs: t.exposeFloat('p50DurationMs', { nullable: true }),
    p95DurationMs: t.exposeFloat('p95DurationMs', { nullable: true }),
  }),
});

export const EventStatusCountRef = builder.objectRef<{ status: string; count: number }>('EventStatusCount').implement({
  fields: (t) => ({
    status: t.field({ type: EventStatusEnum, resolve: (row) => row.status as never }),
    count: t.exposeInt('count'),
  }),
});

/** A window argument in range, or a BAD_USER_INPUT error naming it. */
export function checkedWindow(name: string, value: number, max: number): number {
  if (!Number.isInteger(value) || value < 1 || value > max) {
    throw new GraphQLError(`Argument "${name}" must be between 1 and ${max}; got ${value}`, { extensions: { code: 'BAD_USER_INPUT' } });
  }
  return value;
}

export const statsArgs = { hours: { max: MAX_STATS_HOURS, default: 24 }, minutes: { max: MAX_TIMELINE_MINUTES, default: 60 } } as const;

builder.queryFields((t) => ({
  deliveryStats: t.field({
    type: DeliveryStatsRef,
    description: "Attempts of the last `hours` (1 to 720), of every subscription or of one.",
    args: { subscriptionId: t.arg.id(), hours: t.arg.int({ defaultValue: statsArgs.hours.default }) },
    resolve: (_root, args, ctx) => {
      const hours = checkedWindow('hours', args.hours ?? statsArgs.hours.default, statsArgs.hours.max);
      if (args.subscriptionId != null && !isUuid(args.subscriptionId)) return emptyStats();
      return deliveryStats(ctx.services.db, args.subscriptionId ?? null, hours);
    },
  }),
  deliveryTimeline: t.field({
    type: [DeliveryTimelineBucketRef],
    description: 'Per minute over the last `minutes` (1 to 1440), oldest first, empty minutes included.',
    args: { subscriptionId: t.arg.id(), minutes: t.arg.int({ defaultValue: statsArgs.minutes.default }) },
    resolve: (_root, args, ctx) => {
      const minutes = checkedWindow('minutes', args.minutes ?? statsArgs.minutes.default, statsArgs.minutes.max);
      if (args.subscriptionId != null && !isUuid(args.subscriptionId)) return [];
      return deliveryTimeline(ctx.services.db, args.subscriptionId ?? null, minutes);
    },
  }),
}));

function emptyStats(): DeliveryStats {
  return { attempts: 0, succeeded: 0, failed: 0, successRate: null, p50DurationMs: null, p95DurationMs: null };
}
