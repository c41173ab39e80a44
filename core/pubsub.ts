// Live updates over Redis pub/sub: the worker and the server publish, every server process
// subscribes and feeds its GraphQL subscriptions. Messages carry the whole row, so a
// thousand watchers cost no extra database reads. Channels are `<QUEUE_PREFIX>:<topic>`.
// A server subscribes to a topic's channel only while someone watches that topic: every
// message Redis sends a server wakes both, and with nobody watching that is all it would do
// (several per delivery, times every server process). Publishers, in turn, send a topic only
// while some server subscribes to it (WatchedTopics).
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

/** The control channel (`<prefix>:watching`): a server names each topic there once it has subscribed to it. */
const WATCHING = 'watching';

/** How often a publisher asks Redis which topics are watched: a notice missed in a reconnect is found then. */
const RECHECK_MS = 10_000;

/**
 * Which topics some server watches, as a publisher knows it: a row nobody watches is neither
 * serialised nor sent. With no dashboard open that was three Redis commands per delivery and one
 * per ingested event, and about a tenth of the worker's CPU.
 * A server names a topic on the control channel after its SUBSCRIBE is answered, and publishers
 * send from the moment they hear it; a publish that reached nobody, or a recheck (PUBSUB NUMSUB),
 * stops them. While this process cannot hear notices (not yet connected, reconnecting), every
 * topic counts as watched.
 */
export class WatchedTopics {
  private readonly watched = new Set<Topic>(TOPICS);
  /** Notices heard so far: an answer sent before the latest notice must not unset a topic. */
  private notices = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly commands: Redis,
    /** A connection of its own, in subscriber mode. */
    private readonly listener: Redis,
    private readonly prefix: string,
    private readonly options: { recheckMs?: number } = {},
  ) {}

  private get control(): string {
    return `${this.prefix}:${WATCHING}`;
  }

  /** Listens for notices and asks Redis which topics are watched now, then again every 10 s. */
  start(): void {
    this.listener.on('message', (channel: string, message: string) => {
      if (channel !== this.control || !(TOPICS as string[]).includes(message)) return;
      this.notices++;
      this.watched.add(message as Topic);
    });
    // Deaf until subscribed again: send everything meanwhile, and until Redis has answered again.
    this.listener.on('close', () => this.watchAll());
    // Subscribed only on a ready connection (see Subscriber.addWatcher).
    const listen = () => {
      this.listener
        .subscribe(this.control)
        .then(() => this.recheck())
        .catch(() => {});
    };
    this.listener.on('ready', listen);
    if (this.listener.status === 'ready') listen();
    this.timer = setInterval(() => void this.recheck().catch(() => {}), this.options.recheckMs ?? RECHECK_MS);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.listener.disconnect();
  }

  has(topic: Topic): boolean {
    return !this.listening || this.watched.has(topic);
  }

  /** A mark to pass to `unheard` with the answer of a command sent now. */
  mark(): number {
    return this.notices;
  }

  /** A publish sent at `mark` reached no one: stop sending the topic, unless a notice came since. */
  unheard(topic: Topic, mark: number): void {
    if (mark === this.notices && this.listening) this.watched.delete(topic);
  }

  /** Asks Redis which topics' channels have subscribers. */
  async recheck(): Promise<void> {
    if (!this.listening) return;
    const mark = this.notices;
    const channels = TOPICS.map((topic) => `${this.prefix}:${topic}`);
    const answer = (await this.commands.pubsub('NUMSUB', ...channels)) as (string | number)[];
    if (mark !== this.notices || !this.listening) return;
    TOPICS.forEach((topic, index) => {
      if (Number(answer[index * 2 + 1]) > 0) this.watched.add(topic);
      else this.watched.delete(topic);
    });
  }

  private get listening(): boolean {
    return this.listener.status === 'ready';
  }

  private watchAll(): void {
    for (const topic of TOPICS) this.watched.add(topic);
  }
}

interface PendingPublish {
  channel: string;
  message: string;
  resolve: (receivers: number) => void;
  reject: (error: unknown) => void;
}

export class Publisher {
  /** Publishes made in this turn of the event loop, not sent yet. */
  private turn: PendingPublish[] | null = null;

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly log: Logger,
    /** Without it, every topic is sent. */
    private readonly watched?: WatchedTopics,
  ) {}

  /** Best effort: a Redis problem is logged, never fails the operation that changed the row. */
  async publish<T extends Topic>(topic: T, row: Topics[T]): Promise<void> {
    if (this.watched && !this.watched.has(topic)) return;
    const mark = this.watched?.mark() ?? 0;
    try {
      const receivers = await this.send(`${this.prefix}:${topic}`, JSON.stringify(row));
      if (receivers === 0) this.watched?.unheard(topic, mark);
    } catch (error) {
      this.log.warn('could not publish a live update', { topic, error: (error as Error).message });
    }
  }

  /**
   * Publishes made in one turn of the event loop (the attempts of a committed batch, say) go in
   * one pipeline, sent once the turn's callbacks and promise reactions have run
   * (process.nextTick). ioredis's auto-pipelining would hold them until setImmediate, after
   * whatever other I/O the loop has ready: 0.25 ms at the median but 7 ms at p99 in a worker at
   * 900 deliveries/s, on the way of every live update.
   */
  private send(channel: string, message: string): Promise<number> {
    return new Promise((resolve, reject) => {
      if (!this.turn) {
        this.turn = [];
        process.nextTick(() => this.flush());
      }
      this.turn.push({ channel, message, resolve, reject });
    });
  }

  private flush(): void {
    const sends = this.turn!;
    this.turn = null;
    const pipeline = this.redis.pipeline();
    for (const { channel, message } of sends) pipeline.publish(channel, message);
    pipeline.exec().then(
      (results) =>
        sends.forEach(({ resolve, reject }, index) => {
          const [error, receivers] = results?.[index] ?? [new Error('no reply to a pipelined publish'), 0];
          if (error) reject(error);
          else resolve(Number(receivers));
        }),
      (error: unknown) => sends.forEach(({ reject }) => reject(error)),
    );
  }

  /** Tells every publisher that this server now subscribes to `topic`. */
  async announce(topic: Topic): Promise<void> {
    try {
      await this.redis.publish(`${this.prefix}:${WATCHING}`, topic);
    } catch (error) {
      this.log.warn('could not announce a watched topic', { topic, error: (error as Error).message });
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
    private readonly options: {
      idleUnsubscribeMs?: number;
      /** Called once a topic's channel is subscribed (Publisher.announce), so publishers start sending it. */
      announce?: (topic: Topic) => Promise<void>;
    } = {},
  ) {
    for (const topic of TOPICS) this.listeners.set(`${prefix}:${topic}`, { all: new Set(), bySubscription: new Map() });
  }

  /** Listens for messages; channels are subscribed when watched (ioredis subscribes again after a reconnect). */
  async start(): Promise<void> {
    this.subscribeClient.on('message', (channel: string, message: string) => this.dispatch(channel, message));
    // Channels first watched while the connection was not ready.
    this.subscribeClient.on('ready', () => {
      for (const channel of this.watchers.keys()) this.subscribe(channel);
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
    if (this.subscribeClient.status === 'ready') this.subscribe(channel);
  }

  /** Subscribes, then announces the topic: a publisher that hears it sends to a channel already subscribed. */
  private subscribe(channel: string): void {
    const topic = channel.slice(this.prefix.length + 1) as Topic;
    this.subscribeClient
      .subscribe(channel)
      .then(() => this.options.announce?.(topic))
      .catch(() => {});
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
