// Subscriptions without graphql-tools' layers between a live update and its result. Its
// subscribe wraps the stream in a map, a generator per update and a flattener, and their
// awaits leave promises waiting, per subscriber, for the next update; with a thousand
// subscribers hearing about once a second, young-generation collections copied and promoted
// that state. Here, over a live queue, each update is executed as it is pushed (`forward`), and
// nothing waits between updates (measured: the README's Performance section, "Live updates
// executed as they come").
import { createSourceEventStream, execute, type ExecutionArgs, type ExecutionResult } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { canForward, type Forwarding } from '../core/live-queue.ts';

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
 * mapUpdates, plus, over a source that forwards (the live queue of core/pubsub.ts), `forward`:
 * each update executed as it is pushed, and its result handed on in the order the updates
 * came (a result that waits for a resolver holds back the later ones).
 */
export function executeUpdates(
  source: AsyncIterator<unknown>,
  run: (update: unknown) => ExecutionResult | Promise<ExecutionResult>,
): AsyncIterableIterator<ExecutionResult> | Forwarding<ExecutionResult> {
  const read = mapUpdates(source, run);
  if (!canForward(source)) return read;
  return {
    next: read.next,
    return: read.return,
    throw: read.throw,
    [Symbol.asyncIterator]() {
      return this;
    },
    forward(onValue, onEnd) {
      let ended = false;
      const fail = (error: unknown) => {
        if (ended) return;
        ended = true;
        onEnd(error);
        void source.return?.();
      };
      // Executes one update and hands its result on; a promise while a resolver still works.
      const handOn = (update: unknown): Promise<void> | undefined => {
        if (ended) return undefined;
        let result: ExecutionResult | Promise<ExecutionResult>;
        try {
          result = run(update);
        } catch (error) {
          fail(error);
          return undefined;
        }
        if (typeof (result as PromiseLike<ExecutionResult>).then !== 'function') {
          onValue(result as ExecutionResult);
          return undefined;
        }
        return Promise.resolve(result).then((value) => {
          if (!ended) onValue(value);
        }, fail);
      };
      // Results still executing, in order; null once all are handed on.
      let pending: Promise<void> | null = null;
      const track = (promise: Promise<void>) => {
        pending = promise;
        void promise.then(() => {
          if (pending === promise) pending = null;
        });
      };
      source.forward(
        (update) => {
          if (pending) track(pending.then(() => handOn(update)));
          else {
            const running = handOn(update);
            if (running) track(running);
          }
        },
        (error) => {
          const end = () => {
            if (ended) return;
            ended = true;
            onEnd(error);
          };
          if (pending) void pending.then(end);
          else end();
        },
      );
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
        return executeUpdates(stream[Symbol.asyncIterator](), (update) => execute({ ...args, rootValue: update }) as ExecutionResult | Promise<ExecutionResult>);
      }) as never);
    },
  };
}
