// Live updates over Redis pub/sub: the worker and the server publish, every server process
// subscribes and feeds its GraphQL subscriptions. Messages carry the whole row, so a
// thousand watchers cost no extra database reads. Channels are `<QUEUE_PREFIX>:<topic>`.
// A server subscribes to a topic's channel only while someone watches that topic: every
// message Redis sends a server wakes both, and with nobody watching that is all it would do
// (several per delivery, times every server process).
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

/** How long a channel stays subscribed after its last watcher left (a reconnecting client comes back). */
const IDLE_UNSUBSCRIBE_MS = 30_000;

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
  /** Watchers per channel, and the pending unsubscribe of a channel nobody watches any more. */
  private readonly watchers = new Map<string, number>();
  private readonly idleTimers = new Map<string, NodeJS.Timeout>();

  constructor(
    private readonly subscribeClient: Redis,
    private readonly prefix: string,
    private readonly options: { idleUnsubscribeMs?: number } = {},
  ) {
    for (const topic of TOPICS) this.listeners.set(`${prefix}:${topic}`, { all: new Set(), bySubscription: new Map() });
  }

  /** Listens for messages; channels are subscribed when watched (ioredis subscribes again after a reconnect). */
  async start(): Promise<void> {
    this.subscribeClient.on('message', (channel: string, message: string) => this.dispatch(channel, message));
    // Channels first watched while the connection was not ready.
    this.subscribeClient.on('ready', () => {
      for (const channel of this.watchers.keys()) this.subscribeClient.subscribe(channel).catch(() => {});
    });
  }

  /** The channels this server is subscribed to (or subscribing to) now. */
  get subscribedChannels(): string[] {
    return [...this.watchers.keys()];
  }

  private addWatcher(channel: string): void {
    clearTimeout(this.idleTimers.get(channel));
    this.idleTimers.delete(channel);
    // Still subscribed while its unsubscribe is pending.
    const subscribed = this.watchers.has(channel);
    this.watchers.set(channel, (this.watchers.get(channel) ?? 0) + 1);
    if (subscribed) return;
    // Only on a ready connection: while it connects, ioredis sends SUBSCRIBE at once, and its
    // ready check (INFO) then fails in subscriber mode and drops the connection. Until ready,
    // the 'ready' handler subscribes every watched channel.
    if (this.subscribeClient.status === 'ready') this.subscribeClient.subscribe(channel).catch(() => {});
  }

  private removeWatcher(channel: string): void {
    const count = (this.watchers.get(channel) ?? 1) - 1;
    if (count > 0) {
      this.watchers.set(channel, count);
      return;
    }
    this.watchers.set(channel, 0);
    const timer = setTimeout(() => {
      this.idleTimers.delete(channel);
      if (this.watchers.get(channel) !== 0) return;
      this.watchers.delete(channel);
      this.subscribeClient.unsubscribe(channel).catch(() => {});
    }, this.options.idleUnsubscribeMs ?? IDLE_UNSUBSCRIBE_MS);
    timer.unref();
    this.idleTimers.set(channel, timer);
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
    const channel = `${this.prefix}:${topic}`;
    const listeners = this.listeners.get(channel)!;
    const set = subscriptionId == null ? listeners.all : (listeners.bySubscription.get(subscriptionId) ?? new Set<Listener>());
    if (subscriptionId != null) listeners.bySubscription.set(subscriptionId, set);
    const queue = new LiveQueue<Wire<Topics[T]>>(WATCHER_BUFFER, () => {
      set.delete(listener);
      this.removeWatcher(channel);
      if (subscriptionId != null && set.size === 0 && listeners.bySubscription.get(subscriptionId) === set) {
        listeners.bySubscription.delete(subscriptionId);
      }
    });
    const listener = (message: unknown) => {
      const row = message as Wire<Topics[T]>;
      if (filter(row)) queue.push(row);
    };
    set.add(listener);
    this.addWatcher(channel);
    return queue;
  }
}
