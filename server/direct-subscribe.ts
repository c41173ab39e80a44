// Subscriptions executed with one layer between a live update and its result. graphql-tools'
// subscribe wraps the source in three async iterators (a map, a generator per update and a
// flattener), and each keeps promises and frames waiting for the next update. With a thousand
// subscribers each hearing about once a second, that waiting state outlives young-generation
// collections and is promoted: at 900 updates/s it was about 5 MB/s promoted in the server,
// and the scavenges that copy it were the longest pauses on the live path (measured: the
// README's Performance section, "Live updates executed directly").
import { createSourceEventStream, execute, type ExecutionArgs, type ExecutionResult } from 'graphql';
import type { Plugin } from 'graphql-yoga';

type SubscribeFn = (args: ExecutionArgs) => unknown;

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof (value as AsyncIterable<unknown> | null)?.[Symbol.asyncIterator] === 'function';
}

/** Each update executed into a result (GraphQL's MapSourceToResponseEvent), one await per update. */
export function mapUpdates(
  source: AsyncIterator<unknown>,
  run: (update: unknown) => ExecutionResult | Promise<ExecutionResult>,
): AsyncIterableIterator<ExecutionResult> {
  return {
    async next() {
      const step = await source.next();
      if (step.done) return { done: true, value: undefined };
      return { done: false, value: await run(step.value) };
    },
    async return() {
      await source.return?.();
      return { done: true, value: undefined };
    },
    async throw(error: unknown) {
      await source.return?.();
      throw error;
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}

/**
 * Replaces the subscribe function for subscriptions whose event stream starts. One that fails
 * (bad variables, a subscribe resolver that throws) goes to the engine's own subscribe instead,
 * so its errors (codes, HTTP status) are exactly the engine's.
 */
export function directSubscribePlugin(): Plugin {
  return {
    onSubscribe({ subscribeFn, setSubscribeFn }) {
      const engine = subscribeFn as SubscribeFn;
      setSubscribeFn((async (args: ExecutionArgs) => {
        const stream = await createSourceEventStream(args);
        if (!isAsyncIterable(stream)) return engine(args);
        return mapUpdates(stream[Symbol.asyncIterator](), (update) => execute({ ...args, rootValue: update }) as ExecutionResult | Promise<ExecutionResult>);
      }) as never);
    },
  };
}
