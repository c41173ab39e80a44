// Live updates over Redis pub/sub: the worker and the server publish, every server process
// subscribes and feeds its GraphQL subscriptions. Messages carry the whole row, so a
// thousand watchers cost no extra database reads. Channels are `<QUEUE_PREFIX>:<topic>`.
import { createRedisEventTarget } from '@graphql-yoga/redis-event-target';
import { Repeater, SlidingBuffer } from '@repeaterjs/repeater';
import type { Redis } from 'ioredis';
import type { DeliveryAttempt, Event, WebhookSubscription } from './db.ts';
import type { Logger } from './log.ts';

/** What a message carries once it has crossed Redis: dates are ISO strings. */
export type Wire<T> = { [K in keyof T]: T[K] extends Date ? string : T[K] extends Date | null ? string | null : T[K] };

export interface Topics {
  'event-updated': Event;
  'attempt-recorded': DeliveryAttempt;
  'subscription-updated': WebhookSubscription;
}
export type Topic = keyof Topics;
const TOPICS: Topic[] = ['event-updated', 'attempt-recorded', 'subscription-updated'];

/** A watcher slower than this many pending updates loses the oldest rather than stalling others. */
const WATCHER_BUFFER = 1_000;

export class Publisher {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly log: Logger,
  ) {}

  /** Best effort: a Redis problem is logged, never fails the operation that changed the row. */
  async publish<T extends Topic>(topic: T, row: Topics[T]): Promise<void> {
    try {
      await this.redis.publish(`${this.prefix}:${topic}`, JSON.stringify(row));
    } catch (error) {
      this.log.warn('could not publish a live update', { topic, error: (error as Error).message });
    }
  }
}

export class Subscriber {
  private readonly target;
  private readonly channels: string[];

  constructor(
    private readonly subscribeClient: Redis,
    publishClient: Redis,
    private readonly prefix: string,
    /** Counts open watchers (the live-subscribers metric). */
    private readonly watchers?: { inc(): void; dec(): void },
  ) {
    this.target = createRedisEventTarget<CustomEvent>({ publishClient, subscribeClient });
    this.channels = TOPICS.map((topic) => `${prefix}:${topic}`);
  }

  /** Subscribes to every channel up front, so no update is missed by a watcher's first moments. */
  async start(): Promise<void> {
    await this.subscribeClient.subscribe(...this.channels);
    for (const channel of this.channels) this.target.addEventListener(channel, () => {});
  }

  /** Updates on `topic` that pass `filter`, as an async iterator ended by `return()`. */
  watch<T extends Topic>(topic: T, filter: (row: Wire<Topics[T]>) => boolean = () => true): AsyncIterableIterator<Wire<Topics[T]>> {
    const channel = `${this.prefix}:${topic}`;
    const target = this.target;
    const watchers = this.watchers;
    return new Repeater<Wire<Topics[T]>>(async (push, stop) => {
      watchers?.inc();
      const listener = (event: CustomEvent) => {
        const row = event.detail as Wire<Topics[T]>;
        if (filter(row)) void push(row);
      };
      target.addEventListener(channel, listener);
      await stop;
      target.removeEventListener(channel, listener);
      watchers?.dec();
    }, new SlidingBuffer(WATCHER_BUFFER));
  }
}
