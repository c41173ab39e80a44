// The sharing plugin against a small schema whose subscribe and resolve count their calls.
import { describe, expect, it } from 'vitest';
import { createSchema, createYoga } from 'graphql-yoga';
import type { ExecutionResult } from 'graphql';
import { Repeater } from '@repeaterjs/repeater';
import { LiveQueue } from '../../core/live-queue.ts';
import { directSubscribePlugin } from '../../server/direct-subscribe.ts';
import { sharedSubscriptionsPlugin, stableJson } from '../../server/shared-subscriptions.ts';
import { waitFor } from '../helpers/wait.ts';

/**
 * `read`: the engine's subscribe over a Repeater, read by the shared stream's loop. `forward`:
 * server/direct-subscribe.ts over a LiveQueue (as core/pubsub.ts gives), which the shared
 * stream never reads: each update is forwarded as it is pushed.
 */
function harness(kind: 'read' | 'forward') {
  const sources = new Map<string, { push: (value: number) => void; open: boolean }>();
  const calls = { subscribe: 0, resolve: 0, open: 0, sourceReads: 0 };
  const yoga = createYoga({
    schema: createSchema({
      typeDefs: /* GraphQL */ `
        type Query { ok: Boolean }
        type Subscription { ticks(channel: String!): Int! }
      `,
      resolvers: {
        Subscription: {
          ticks: {
            subscribe: (_root: unknown, { channel }: { channel: string }) => {
              calls.subscribe++;
              if (kind === 'forward') {
                const source = { push: (value: number) => queue.push(value), open: true };
                const queue = new LiveQueue<number>(10, () => (source.open = false));
                const next = queue.next.bind(queue);
                queue.next = () => {
                  calls.sourceReads++;
                  return next();
                };
                sources.set(channel, source);
                return queue;
              }
              return new Repeater<number>(async (push, stop) => {
                const source = { push: (value: number) => void push(value), open: true };
                sources.set(channel, source);
                await stop;
                source.open = false;
              });
            },
            resolve: (value: number) => {
              calls.resolve++;
              return value;
            },
          },
        },
      },
    }),
    plugins: [...(kind === 'forward' ? [directSubscribePlugin()] : []), sharedSubscriptionsPlugin({ inc: () => calls.open++, dec: () => calls.open-- })],
  });

  async function subscribe(channel: unknown, query = 'subscription ($c: String!) { ticks(channel: $c) }') {
    const { parse, subscribe, contextFactory } = yoga.getEnveloped({});
    const result = await subscribe({
      schema: yoga.getEnveloped({}).schema,
      document: parse(query),
      variableValues: { c: channel },
      contextValue: await contextFactory(),
    });
    return result as AsyncIterableIterator<ExecutionResult> | ExecutionResult;
  }

  async function nextValue(iterator: AsyncIterableIterator<ExecutionResult>) {
    const { value } = await iterator.next();
    return (value as ExecutionResult).data?.ticks;
  }

  async function source(channel: string) {
    await waitFor(() => sources.get(channel)?.open === true, { what: `the ${channel} source open` });
    return sources.get(channel)!;
  }

  return { calls, subscribe, nextValue, source, sources };
}

describe.each(['read', 'forward'] as const)('shared live subscriptions (%s)', (kind) => {
  it('runs one source and one execution per update for subscribers asking the same', async () => {
    const { calls, subscribe, nextValue, source } = harness(kind);
    const a = (await subscribe('red')) as AsyncIterableIterator<ExecutionResult>;
    const b = (await subscribe('red')) as AsyncIterableIterator<ExecutionResult>;
    const readA = nextValue(a);
    const readB = nextValue(b);
    (await source('red')).push(1);
    expect(await readA).toBe(1);
    expect(await readB).toBe(1);
    expect(calls.subscribe).toBe(1);
    expect(calls.resolve).toBe(1);
    expect(calls.open).toBe(2);
    // Forwarded: the source is never read, so no promise waits on it between updates.
    if (kind === 'forward') expect(calls.sourceReads).toBe(0);
    await a.return!();
    await b.return!();
  });

  it('keeps subscribers with other variables apart', async () => {
    const { calls, subscribe, nextValue, source } = harness(kind);
    const red = (await subscribe('red')) as AsyncIterableIterator<ExecutionResult>;
    const blue = (await subscribe('blue')) as AsyncIterableIterator<ExecutionResult>;
    const readRed = nextValue(red);
    const readBlue = nextValue(blue);
    (await source('blue')).push(7);
    (await source('red')).push(3);
    expect(await readRed).toBe(3);
    expect(await readBlue).toBe(7);
    expect(calls.subscribe).toBe(2);
    await red.return!();
    await blue.return!();
  });

  it('keeps the source while one subscriber remains, ends it with the last, and starts afresh after', async () => {
    const { calls, subscribe, nextValue, source, sources } = harness(kind);
    const a = (await subscribe('red')) as AsyncIterableIterator<ExecutionResult>;
    const b = (await subscribe('red')) as AsyncIterableIterator<ExecutionResult>;
    const firstA = nextValue(a);
    const firstB = nextValue(b);
    const red = await source('red');
    red.push(1);
    await Promise.all([firstA, firstB]);

    await a.return!();
    const secondB = nextValue(b);
    red.push(2);
    expect(await secondB).toBe(2);
    expect(red.open).toBe(true);
    expect(calls.open).toBe(1);

    await b.return!();
    await waitFor(() => !red.open, { what: 'the source ended with its last subscriber' });
    expect(calls.open).toBe(0);

    const c = (await subscribe('red')) as AsyncIterableIterator<ExecutionResult>;
    const firstC = nextValue(c);
    const again = await source('red');
    expect(again).not.toBe(red);
    again.push(5);
    expect(await firstC).toBe(5);
    expect(calls.subscribe).toBe(2);
    await c.return!();
    expect(sources.size).toBe(1);
  });

  it('gives every subscriber the error result of a subscription that cannot start', async () => {
    const { calls, subscribe } = harness(kind);
    const [a, b] = await Promise.all([subscribe(42), subscribe(42)]);
    for (const result of [a, b]) {
      expect(Symbol.asyncIterator in result).toBe(false);
      expect((result as ExecutionResult).errors?.[0]?.message).toMatch(/String cannot represent a non string value: 42/);
    }
    expect(calls.subscribe).toBe(0);
    expect(calls.open).toBe(0);
  });
});

describe('stableJson', () => {
  it('orders keys so equal variables give equal keys', () => {
    expect(stableJson({ b: 1, a: { d: [1, { f: 2, e: 3 }], c: null } })).toBe('{"a":{"c":null,"d":[1,{"e":3,"f":2}]},"b":1}');
    expect(stableJson({ a: undefined, b: 2 })).toBe('{"b":2}');
    expect(stableJson({ a: 1 })).not.toBe(stableJson({ a: '1' }));
  });
});
