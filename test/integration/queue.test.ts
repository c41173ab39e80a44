// The producer side of the delivery queue against a real Redis: what it stores, and what it keeps.
import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import BeeQueue from 'bee-queue';
// Bee-Queue's script loader: its scripts, read once a queue has connected.
// @ts-expect-error untyped internal module
import lua from 'bee-queue/lib/lua/index.js';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import {
  DELIVERY_QUEUE,
  DeliveryQueue,
  MAX_DELIVERIES_PER_JOB,
  connectDeliveryConsumer,
  raiseDueDelayedJobs,
  type DeliveryJob,
} from '../../core/queue.ts';
import { RedisServer } from '../helpers/services.ts';
import { REDIS_URL, deleteRedisKeys, newLogDir } from '../helpers/stack.ts';
import { waitFor } from '../helpers/wait.ts';

const prefix = `hookd-test-queue-${randomUUID().slice(0, 8)}`;
const queue = new DeliveryQueue({ redisUrl: REDIS_URL, prefix });
afterAll(async () => {
  await queue.close();
  await deleteRedisKeys(prefix);
});

describe('DeliveryQueue', () => {
  it('puts first attempts in shared jobs, a delayed retry in a job of its own, and keeps none of them in memory', async () => {
    const due = Array.from({ length: MAX_DELIVERIES_PER_JOB + 5 }, () => ({ eventId: randomUUID(), attempt: 1 }));
    const retry = { eventId: randomUUID(), attempt: 2, notBefore: new Date(Date.now() + 60_000) };
    await queue.enqueue([...due, retry]);

    const reader = new BeeQueue<DeliveryJob>(DELIVERY_QUEUE, { prefix, redis: { url: REDIS_URL }, isWorker: false, getEvents: false });
    try {
      const waiting = await reader.getJobs('waiting', { start: 0, end: 100 });
      expect(waiting.flatMap((job) => job.data.deliveries.map((delivery) => delivery.eventId)).sort()).toEqual(due.map((d) => d.eventId).sort());
      expect(waiting.map((job) => job.data.deliveries.length).sort((a, b) => a - b)).toEqual([5, MAX_DELIVERIES_PER_JOB]);
      const delayed = await reader.getJobs('delayed', { start: 0, end: 100 });
      expect(delayed.map((job) => job.id)).toEqual([`${retry.eventId}:2`]);
    } finally {
      await reader.close();
    }
    // Bee-Queue would keep every saved job in a map for job events hookd never asks for: a leak
    // in a server that enqueues for days.
    const bee = await (queue as unknown as { queue(): Promise<{ jobs: Map<string, unknown> }> }).queue();
    expect(bee.jobs.size).toBe(0);
  });
});

describe('a Redis that resets the connection during the ready check', () => {
  it('fails the connection attempt without an unhandled error (which would end the process)', async () => {
    // Answers nothing and resets the connection once the client's ready check (INFO) arrives.
    let resets = 0;
    const fake = createServer((socket) => {
      socket.on('data', (data) => {
        if (/info/i.test(String(data))) {
          resets++;
          setTimeout(() => socket.resetAndDestroy(), 20);
        }
      });
    });
    await new Promise<void>((resolve) => fake.listen(0, '127.0.0.1', resolve));
    const port = (fake.address() as AddressInfo).port;
    const unhandled: unknown[] = [];
    const onUncaught = (error: unknown) => unhandled.push(error);
    process.on('uncaughtException', onUncaught);
    const producer = new DeliveryQueue({ redisUrl: `redis://127.0.0.1:${port}`, prefix });
    try {
      await expect(producer.enqueue([{ eventId: randomUUID(), attempt: 1 }])).rejects.toThrow();
      expect(resets).toBeGreaterThanOrEqual(1);
      expect(unhandled).toEqual([]);
    } finally {
      process.off('uncaughtException', onUncaught);
      await producer.close();
      fake.close();
    }
  });
});

describe('a retry that came due while Bee-Queue could not raise it', () => {
  it('stays delayed after the failed raise, and raiseDueDelayedJobs (the worker calls it every SWEEP_INTERVAL) raises it', async () => {
    // A Redis of its own: this test flushes its scripts, as a restart does.
    const logDir = newLogDir();
    const redisServer = await RedisServer.start(logDir);
    const redis = new Redis(redisServer.url);
    const options = { redisUrl: redisServer.url, prefix: 'hookd-test-raise' };
    const producer = new DeliveryQueue(options);
    const consumer = await connectDeliveryConsumer(options, () => {}, () => false);
    try {
      const errors: Error[] = [];
      consumer!.on('error', (error) => errors.push(error));
      const delivered: string[] = [];
      consumer!.process(1, async (job) => void delivered.push(...job.data.deliveries.map((delivery) => delivery.eventId)));

      const retry = { eventId: randomUUID(), attempt: 2, notBefore: new Date(Date.now() + 60_000) };
      await producer.enqueue([retry]);
      const key = (name: string) => `${options.prefix}:${DELIVERY_QUEUE}:${name}`;
      expect(await redis.zrange(key('delayed'), 0, -1)).toEqual([`${retry.eventId}:2`]);

      // Redis loses its scripts; the retry comes due, and Bee-Queue's raise fails with NOSCRIPT.
      await redis.script('FLUSH');
      await redis.zadd(key('delayed'), 'XX', Date.now() - 1_000, `${retry.eventId}:2`);
      await redis.publish(key('earlierDelayed'), String(Date.now() - 1_000));
      await waitFor(() => errors.some((error) => /NOSCRIPT/.test(error.message)), { what: "Bee-Queue's raise to fail with NOSCRIPT" });

      // The scripts are back (as once a client reconnects), but nothing raises the retry again.
      for (const script of Object.values(lua.scripts as Record<string, string>)) await redis.script('LOAD', script);
      expect(await redis.zrange(key('delayed'), 0, -1)).toEqual([`${retry.eventId}:2`]);
      expect(delivered).toEqual([]);

      raiseDueDelayedJobs(consumer!);
      await waitFor(() => delivered.includes(retry.eventId), { what: 'the raised retry to be processed' });
      expect(await redis.zcard(key('delayed'))).toBe(0);
    } finally {
      await consumer?.close();
      await producer.close();
      redis.disconnect();
      await redisServer.stop();
      rmSync(logDir, { recursive: true, force: true });
    }
  });
});
