// Live updates over Redis pub/sub: the worker and the server publish, every server process
// subscribes and feeds its GraphQL subscriptions. Messages carry the whole row, so a
// thousand watchers cost no extra database reads. Channels are `<QUEUE_PREFIX>:<topic>`.
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

type Listener = (row: unknown) => void;

export class Subscriber {
  private readonly listeners = new Map<string, Set<Listener>>();
  private readonly channels: string[];

  constructor(
    private readonly subscribeClient: Redis,
    private readonly prefix: string,
    /** Counts open watchers (the live-subscribers metric). */
    private readonly watchers?: { inc(): void; dec(): void },
  ) {
    this.channels = TOPICS.map((topic) => `${prefix}:${topic}`);
    for (const channel of this.channels) this.listeners.set(channel, new Set());
  }

  /** Subscribes to every channel up front, so no update is missed by a watcher's first moments. */
  async start(): Promise<void> {
    this.subscribeClient.on('message', (channel: string, message: string) => this.dispatch(channel, message));
    await this.subscribeClient.subscribe(...this.channels);
  }

  /** One parse per message, and none at all while nobody watches its topic. */
  private dispatch(channel: string, message: string): void {
    const listeners = this.listeners.get(channel);
    if (!listeners || listeners.size === 0) return;
    let row: unknown;
    try {
      row = JSON.parse(message);
    } catch {
      return;
    }
    for (const listener of listeners) listener(row);
  }

  /** Updates on `topic` that pass `filter`, as an async iterator ended by `return()`. */
  watch<T extends Topic>(topic: T, filter: (row: Wire<Topics[T]>) => boolean = () => true): AsyncIterableIterator<Wire<Topics[T]>> {
    const listeners = this.listeners.get(`${this.prefix}:${topic}`)!;
    const watchers = this.watchers;
    return new Repeater<Wire<Topics[T]>>(async (push, stop) => {
      watchers?.inc();
      const listener = (message: unknown) => {
        const row = message as Wire<Topics[T]>;
        if (filter(row)) void push(row);
      };
      listeners.add(listener);
      await stop;
      listeners.delete(listener);
      watchers?.dec();
    }, new SlidingBuffer(WATCHER_BUFFER));
  }
}
