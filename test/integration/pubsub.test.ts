// A server subscribes to a live-update channel only while someone watches its topic, against
// the real Redis: nobody watching means Redis sends this server nothing.
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Publisher, Subscriber, WatchedTopics } from '../../core/pubsub.ts';
import { createLogger } from '../../core/log.ts';
import { REDIS_URL } from '../helpers/stack.ts';
import { waitFor } from '../helpers/wait.ts';

const prefix = `hookd-pubsub-test-${randomBytes(4).toString('hex')}`;
const commands = new Redis(REDIS_URL);
const subscribeClient = new Redis(REDIS_URL);
const IDLE_MS = 300;
const subscriber = new Subscriber(subscribeClient, prefix, { idleUnsubscribeMs: IDLE_MS });
const publisher = new Publisher(commands, prefix, createLogger('test', 'error'));

afterAll(async () => {
  subscribeClient.disconnect();
  commands.disconnect();
});

/** Subscribers Redis counts on each topic's channel. */
async function subscribersPerTopic(): Promise<Record<string, number>> {
  const topics = ['event-updated', 'attempt-recorded', 'subscription-updated'];
  const answer = (await commands.pubsub('NUMSUB', ...topics.map((topic) => `${prefix}:${topic}`))) as (string | number)[];
  return Object.fromEntries(topics.map((topic, index) => [topic, Number(answer[index * 2 + 1])]));
}

const attempt = (id: string) => ({ id, subscriptionId: 'sub-1', eventId: 'ev-1' }) as never;

describe('live-update channels', () => {
  it('are subscribed only while watched, and unsubscribed a while after the last watcher leaves', async () => {
    await subscriber.start();
    expect(await subscribersPerTopic()).toEqual({ 'event-updated': 0, 'attempt-recorded': 0, 'subscription-updated': 0 });

    const first = subscriber.watch('attempt-recorded');
    const second = subscriber.watch('attempt-recorded', { subscriptionId: 'sub-1' });
    await waitFor(async () => (await subscribersPerTopic())['attempt-recorded'] === 1, { what: 'the channel subscribed' });
    expect(await subscribersPerTopic()).toEqual({ 'event-updated': 0, 'attempt-recorded': 1, 'subscription-updated': 0 });
    expect(subscriber.subscribedChannels).toEqual([`${prefix}:attempt-recorded`]);

    await publisher.publish('attempt-recorded', attempt('a1'));
    expect((await first.next()).value).toMatchObject({ id: 'a1' });
    expect((await second.next()).value).toMatchObject({ id: 'a1' });

    // One watcher left: still subscribed, even past the idle delay.
    await first.return!();
    await new Promise((resolve) => setTimeout(resolve, IDLE_MS * 2));
    expect((await subscribersPerTopic())['attempt-recorded']).toBe(1);

    // The last one left: unsubscribed after the idle delay.
    await second.return!();
    expect(subscriber.subscribedChannels).toEqual([`${prefix}:attempt-recorded`]);
    await waitFor(async () => (await subscribersPerTopic())['attempt-recorded'] === 0, { what: 'the channel unsubscribed' });
    expect(subscriber.subscribedChannels).toEqual([]);
  });

  it('keeps the channel when a watcher comes back within the idle delay', async () => {
    const first = subscriber.watch('event-updated');
    await waitFor(async () => (await subscribersPerTopic())['event-updated'] === 1, { what: 'the channel subscribed' });
    await first.return!();
    const again = subscriber.watch('event-updated');
    await new Promise((resolve) => setTimeout(resolve, IDLE_MS * 2));
    expect((await subscribersPerTopic())['event-updated']).toBe(1);
    await publisher.publish('event-updated', { id: 'ev-2', subscriptionId: 'sub-1' } as never);
    expect((await again.next()).value).toMatchObject({ id: 'ev-2' });
    await again.return!();
    await waitFor(async () => (await subscribersPerTopic())['event-updated'] === 0, { what: 'the channel unsubscribed' });
  });

  it('waits for a connection to be ready before subscribing (a SUBSCRIBE during its ready check broke the connection)', async () => {
    const client = new Redis(REDIS_URL, { autoResubscribe: true, maxRetriesPerRequest: null });
    const errors: string[] = [];
    client.on('error', (error) => errors.push(error.message));
    let connects = 0;
    client.on('connect', () => connects++);
    const early = new Subscriber(client, prefix, { idleUnsubscribeMs: IDLE_MS });
    await early.start();
    try {
      // Watched the moment the socket connects, before the ready check has run.
      const watching = new Promise<AsyncIterableIterator<unknown>>((resolve) => client.once('connect', () => resolve(early.watch('subscription-updated'))));
      const updates = await watching;
      await waitFor(async () => (await subscribersPerTopic())['subscription-updated'] === 1, { what: 'the channel subscribed' });
      await publisher.publish('subscription-updated', { id: 'sub-9' } as never);
      expect((await updates.next()).value).toMatchObject({ id: 'sub-9' });
      expect(errors).toEqual([]);
      expect(connects).toBe(1);
      await updates.return!();
    } finally {
      client.disconnect();
    }
  });
});

describe('publishers', () => {
  const gatedPrefix = `hookd-watched-test-${randomBytes(4).toString('hex')}`;
  const log = createLogger('test', 'error');
  const listenerName = `${gatedPrefix}-listener`;
  const gatedCommands = new Redis(REDIS_URL);
  const listener = new Redis(REDIS_URL, { autoResubscribe: true, maxRetriesPerRequest: null, connectionName: listenerName });
  // A recheck only after a minute: within a test, only notices and answers move the state.
  const watched = new WatchedTopics(gatedCommands, listener, gatedPrefix, { recheckMs: 60_000 });
  const gated = new Publisher(gatedCommands, gatedPrefix, log, watched);
  const watchingServer = new Subscriber(new Redis(REDIS_URL), gatedPrefix, {
    idleUnsubscribeMs: IDLE_MS,
    announce: (topic) => new Publisher(commands, gatedPrefix, log).announce(topic),
  });
  // MONITOR shows every command Redis runs, so what a publisher did not send can be checked.
  const seen: string[][] = [];
  const monitorClient = new Redis(REDIS_URL);
  let markers = 0;

  /** The rows Redis was given to publish on this test's channels, up to a marker sent after them on the same connection. */
  async function publishedBefore(): Promise<string[]> {
    const marker = `${gatedPrefix}:marker-${++markers}`;
    await gatedCommands.publish(marker, '');
    await waitFor(() => seen.some((args) => args[1] === marker), { what: 'the marker on MONITOR' });
    const upTo = seen.findIndex((args) => args[1] === marker);
    const published = seen.splice(0, upTo + 1);
    const rows = (args: string[]) => args[0]!.toLowerCase() === 'publish' && !/:(marker-\d+|watching)$/.test(args[1]!);
    return published.filter(rows).map((args) => `${args[1]!.slice(gatedPrefix.length + 1)} ${args[2]}`);
  }

  async function gatedSubscribers(topic: string): Promise<number> {
    return Number(((await commands.pubsub('NUMSUB', `${gatedPrefix}:${topic}`)) as unknown[])[1]);
  }

  beforeAll(async () => {
    const monitor = await monitorClient.monitor();
    monitor.on('monitor', (_time: string, args: string[]) => {
      if (args[1]?.startsWith(gatedPrefix)) seen.push(args);
    });
    await watchingServer.start();
    watched.start();
    // Nobody watches this prefix: the first recheck turns every topic off.
    await waitFor(() => !watched.has('event-updated') && !watched.has('attempt-recorded') && !watched.has('subscription-updated'), {
      what: 'every topic unwatched',
    });
  });

  afterAll(() => {
    watched.stop();
    monitorClient.disconnect();
    gatedCommands.disconnect();
  });

  it('send a topic only while a server watches it: from its notice until a publish reaches nobody', async () => {
    await gated.publish('attempt-recorded', attempt('x1'));
    expect(await publishedBefore()).toEqual([]);

    const updates = watchingServer.watch('attempt-recorded');
    // Heard from the notice: the next recheck is a minute away.
    await waitFor(() => watched.has('attempt-recorded'), { what: 'the notice heard' });
    expect(watched.has('event-updated')).toBe(false);
    await gated.publish('attempt-recorded', attempt('x2'));
    expect((await updates.next()).value).toMatchObject({ id: 'x2' });
    await gated.publish('event-updated', { id: 'ev-x' } as never);
    expect(await publishedBefore()).toEqual([`attempt-recorded ${JSON.stringify(attempt('x2'))}`]);

    // The watcher leaves and the server unsubscribes: the next publish reaches nobody and is the last.
    await updates.return!();
    await waitFor(async () => (await gatedSubscribers('attempt-recorded')) === 0, { what: 'the channel unsubscribed' });
    await gated.publish('attempt-recorded', attempt('x3'));
    expect(watched.has('attempt-recorded')).toBe(false);
    await gated.publish('attempt-recorded', attempt('x4'));
    expect(await publishedBefore()).toEqual([`attempt-recorded ${JSON.stringify(attempt('x3'))}`]);
  });

  it('keep sending a topic when a notice came while the publish that reached nobody was on its way', async () => {
    const updates = watchingServer.watch('event-updated');
    await waitFor(() => watched.has('event-updated'), { what: 'the notice heard' });
    const before = watched.mark();
    await new Publisher(commands, gatedPrefix, log).announce('event-updated');
    await waitFor(() => watched.mark() > before, { what: 'the second notice heard' });
    // An answer of zero receivers to a command sent before that notice.
    watched.unheard('event-updated', before);
    expect(watched.has('event-updated')).toBe(true);
    // One sent after it does stop the topic.
    watched.unheard('event-updated', watched.mark());
    expect(watched.has('event-updated')).toBe(false);
    await updates.return!();
    await waitFor(async () => (await gatedSubscribers('event-updated')) === 0, { what: 'the channel unsubscribed' });
  });

  it('ask Redis again, and hear notices again, after their connection is dropped', async () => {
    const clients = (await commands.client('LIST')) as string;
    const id = /id=(\d+) .*name=(\S+)/.exec(clients.split('\n').find((line) => line.includes(`name=${listenerName}`))!)![1];
    const readies = new Promise((resolve) => listener.once('ready', resolve));
    await commands.client('KILL', 'ID', id!);
    await readies;
    // Deaf while reconnecting, it sent everything; connected again, it asks Redis.
    await waitFor(() => !watched.has('event-updated') && !watched.has('attempt-recorded') && !watched.has('subscription-updated'), {
      what: 'every topic unwatched again',
    });
    const updates = watchingServer.watch('subscription-updated');
    await waitFor(() => watched.has('subscription-updated'), { what: 'the watched topic known again' });
    await gated.publish('subscription-updated', { id: 'sub-x' } as never);
    expect((await updates.next()).value).toMatchObject({ id: 'sub-x' });
    await updates.return!();
    expect(await publishedBefore()).toEqual(['subscription-updated {"id":"sub-x"}']);
  });

  it('send every topic while they cannot hear notices', async () => {
    const deafListener = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
    const deaf = new WatchedTopics(gatedCommands, deafListener, gatedPrefix, { recheckMs: 60_000 });
    deaf.start();
    await waitFor(() => !deaf.has('event-updated'), { what: 'the topic unwatched' });
    deaf.stop();
    await waitFor(() => deafListener.status === 'end', { what: 'the connection closed' });
    const publisher = new Publisher(gatedCommands, gatedPrefix, log, deaf);
    await publisher.publish('event-updated', { id: 'ev-deaf' } as never);
    await publisher.publish('event-updated', { id: 'ev-deaf-2' } as never);
    // Nobody heard the first either: without notices, that cannot stop the topic.
    expect(await publishedBefore()).toEqual(['event-updated {"id":"ev-deaf"}', 'event-updated {"id":"ev-deaf-2"}']);
  });
});

describe('publishing', () => {
  // As core/services.ts makes command clients: with auto-pipelining, which would hold a publish
  // until setImmediate.
  const client = new Redis(REDIS_URL, { enableAutoPipelining: true });
  const listener = new Redis(REDIS_URL);
  const channelPrefix = `${prefix}-turns`;
  const received: string[] = [];

  beforeAll(async () => {
    await client.ping();
    listener.on('message', (_channel: string, message: string) => received.push((JSON.parse(message) as { id: string }).id));
    await listener.subscribe(`${channelPrefix}:attempt-recorded`);
  });

  afterAll(() => {
    client.disconnect();
    listener.disconnect();
  });

  it("sends one turn's publishes in one write, in order, before the event loop's check phase", async () => {
    const publisher = new Publisher(client, channelPrefix, createLogger('test', 'error'));
    const writes: string[] = [];
    const stream = client.stream as unknown as { write: (chunk: unknown, ...rest: unknown[]) => boolean };
    const write = stream.write.bind(stream);
    stream.write = (chunk, ...rest) => {
      writes.push(String(chunk));
      return write(chunk, ...rest);
    };
    try {
      // Queued before the publishes: it runs once this turn's I/O is done, as other work would.
      const writtenBeforeCheck = new Promise<number>((resolve) => setImmediate(() => resolve(writes.length)));
      const sent = ['t1', 't2', 't3'].map((id) => publisher.publish('attempt-recorded', attempt(id)));
      expect(await writtenBeforeCheck).toBe(1);
      expect(writes[0]).toMatch(/t1[\s\S]*t2[\s\S]*t3/);
      await Promise.all(sent);
      await waitFor(() => received.length === 3, { what: 'the three messages' });
      expect(received).toEqual(['t1', 't2', 't3']);
    } finally {
      stream.write = write;
    }
  });

  it('logs and goes on when Redis cannot take a publish', async () => {
    const lines: string[] = [];
    const broken = new Redis(REDIS_URL, { enableAutoPipelining: true, maxRetriesPerRequest: 0, lazyConnect: true, enableOfflineQueue: false });
    broken.on('error', () => {});
    const publisher = new Publisher(broken, channelPrefix, createLogger('test', 'warn', { write: (line: string) => lines.push(line) }));
    await expect(publisher.publish('attempt-recorded', attempt('lost'))).resolves.toBeUndefined();
    expect(lines.join('\n')).toContain('could not publish a live update');
    broken.disconnect();
  });
});
