// A server subscribes to a live-update channel only while someone watches its topic, against
// the real Redis: nobody watching means Redis sends this server nothing.
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { Publisher, Subscriber } from '../../core/pubsub.ts';
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
