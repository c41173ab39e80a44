// Live updates over Redis pub/sub: the worker and the server publish, every server process
// subscribes and feeds its GraphQL subscriptions. Messages carry the whole row, so a
// thousand watchers cost no extra database reads. Channels are `<QUEUE_PREFIX>:<topic>`.
import type { Redis } from 'ioredis';
import type { DeliveryAttempt, Event, WebhookSubscription } from './db.ts';
import { LiveQueue } from './live-queue.ts';
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

/** The watchers of one channel: of every row, and of one subscription's rows. */
interface ChannelListeners {
  all: Set<Listener>;
  bySubscription: Map<string, Set<Listener>>;
}

/** The subscription a row belongs to: watchers of one subscription are found by it, not by trying each. */
function subscriptionOf(row: unknown): string | undefined {
  const { subscriptionId, id } = row as { subscriptionId?: unknown; id?: unknown };
  if (typeof subscriptionId === 'string') return subscriptionId;
  return typeof id === 'string' ? id : undefined;
}

export interface WatchOptions<T extends Topic> {
  /** Only rows of this webhook subscription (the subscription itself, for subscription-updated). */
  subscriptionId?: string | null;
  /** Any further condition. */
  filter?: (row: Wire<Topics[T]>) => boolean;
}

export class Subscriber {
  private readonly listeners = new Map<string, ChannelListeners>();
  private readonly channels: string[];

  constructor(
    private readonly subscribeClient: Redis,
    private readonly prefix: string,
  ) {
    this.channels = TOPICS.map((topic) => `${prefix}:${topic}`);
    for (const channel of this.channels) this.listeners.set(channel, { all: new Set(), bySubscription: new Map() });
  }

  /** Subscribes to every channel up front, so no update is missed by a watcher's first moments. */
  async start(): Promise<void> {
    this.subscribeClient.on('message', (channel: string, message: string) => this.dispatch(channel, message));
    await this.subscribeClient.subscribe(...this.channels);
  }

  /** One parse per message, none at all while nobody watches its topic, and only the watchers it concerns called. */
  private dispatch(channel: string, message: string): void {
    const listeners = this.listeners.get(channel);
    if (!listeners || (listeners.all.size === 0 && listeners.bySubscription.size === 0)) return;
    let row: unknown;
    try {
      row = JSON.parse(message);
    } catch {
      return;
    }
    for (const listener of listeners.all) listener(row);
    const key = subscriptionOf(row);
    if (key === undefined) return;
    for (const listener of listeners.bySubscription.get(key) ?? []) listener(row);
  }

  /** Updates on `topic` that pass the options, as an async iterator ended by `return()`. */
  watch<T extends Topic>(topic: T, { subscriptionId, filter = () => true }: WatchOptions<T> = {}): AsyncIterableIterator<Wire<Topics[T]>> {
    const listeners = this.listeners.get(`${this.prefix}:${topic}`)!;
    const set = subscriptionId == null ? listeners.all : (listeners.bySubscription.get(subscriptionId) ?? new Set<Listener>());
    if (subscriptionId != null) listeners.bySubscription.set(subscriptionId, set);
    const queue = new LiveQueue<Wire<Topics[T]>>(WATCHER_BUFFER, () => {
      set.delete(listener);
      if (subscriptionId != null && set.size === 0 && listeners.bySubscription.get(subscriptionId) === set) {
        listeners.bySubscription.delete(subscriptionId);
      }
    });
    const listener = (message: unknown) => {
      const row = message as Wire<Topics[T]>;
      if (filter(row)) queue.push(row);
    };
    set.add(listener);
    return queue;
  }
}
