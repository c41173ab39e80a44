// Live subscribers asking the same thing share one execution. A thousand dashboards watching
// one subscription's attempts would otherwise run the same resolvers a thousand times per
// attempt; here each update is executed once per distinct (document, operation, variables) and
// the result handed to every subscriber of it. Results depend on nothing else: the context
// holds no per-client data (the token is checked before a subscription starts).
import { print, type DocumentNode, type ExecutionResult } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { LiveQueue, canForward, type Forwarding } from '../core/live-queue.ts';

type SubscribeResult = AsyncIterableIterator<ExecutionResult> | ExecutionResult;
type SubscribeArgs = { document: DocumentNode; operationName?: string | null; variableValues?: Record<string, unknown> | null };

/** A subscriber slower than this many pending results loses the oldest rather than stalling the others. */
const SUBSCRIBER_BUFFER = 1_000;

/** One execution of a subscription, its results copied to every participant. */
class SharedStream {
  private readonly participants = new Set<LiveQueue<ExecutionResult>>();
  private iterator: AsyncIterableIterator<ExecutionResult> | null = null;
  closed = false;

  constructor(
    readonly started: Promise<SubscribeResult>,
    private readonly onEnd: () => void,
  ) {
    void started.then(
      (result) => {
        if (!isIterator(result)) return this.end();
        this.iterator = result;
        if (this.closed) void result.return?.();
        else if (canForward(result)) this.forwardFrom(result);
        else void this.pump(result);
      },
      () => this.end(),
    );
  }

  /** A new subscriber's own iterator over the shared results, ended by its `return()`. */
  join(counter?: Counter): AsyncIterableIterator<ExecutionResult> {
    counter?.inc();
    const participant: LiveQueue<ExecutionResult> = new LiveQueue(SUBSCRIBER_BUFFER, () => {
      counter?.dec();
      this.participants.delete(participant);
      if (this.participants.size === 0) this.close();
    });
    if (this.closed) participant.end();
    else this.participants.add(participant);
    return participant;
  }

  /** Results handed on as they come: nothing waits between them (see Forwarding). */
  private forwardFrom(results: Forwarding<ExecutionResult>): void {
    results.forward(
      (result) => {
        for (const participant of this.participants) participant.push(result);
      },
      (failure) => {
        this.end();
        for (const participant of [...this.participants]) participant.end(failure);
      },
    );
  }

  private async pump(iterator: AsyncIterableIterator<ExecutionResult>): Promise<void> {
    let failure: unknown;
    try {
      for await (const result of iterator) for (const participant of this.participants) participant.push(result);
    } catch (error) {
      failure = error;
    }
    this.end();
    for (const participant of [...this.participants]) participant.end(failure);
  }

  private close(): void {
    this.end();
    void this.iterator?.return?.();
  }

  private end(): void {
    if (this.closed) return;
    this.closed = true;
    this.onEnd();
  }
}

function isIterator(result: SubscribeResult): result is AsyncIterableIterator<ExecutionResult> {
  return typeof (result as AsyncIterableIterator<ExecutionResult>)[Symbol.asyncIterator] === 'function';
}

/** Object keys in a fixed order, so `{a, b}` and `{b, a}` share. */
export function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.keys(value)
      .sort()
      .filter((key) => (value as Record<string, unknown>)[key] !== undefined)
      .map((key) => `${JSON.stringify(key)}:${stableJson((value as Record<string, unknown>)[key])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

interface Counter {
  inc(): void;
  dec(): void;
}

/**
 * Must come after any plugin that replaces the subscribe function. `subscribers` counts the
 * open subscriptions (the live-subscribers metric), shared or not.
 */
export function sharedSubscriptionsPlugin(subscribers?: Counter): Plugin {
  const streams = new Map<string, SharedStream>();
  // Yoga's parser cache hands the same document object for the same query text.
  const printed = new WeakMap<DocumentNode, string>();
  const keyOf = (args: SubscribeArgs) => {
    let text = printed.get(args.document);
    if (text === undefined) printed.set(args.document, (text = print(args.document)));
    return `${args.operationName ?? ''}\n${stableJson(args.variableValues ?? {})}\n${text}`;
  };
  return {
    onSubscribe({ subscribeFn, setSubscribeFn }) {
      setSubscribeFn(async (args) => {
        const key = keyOf(args);
        for (;;) {
          let stream = streams.get(key);
          const fresh = !stream;
          if (!stream) {
            const created: SharedStream = new SharedStream(Promise.resolve(subscribeFn(args) as Promise<SubscribeResult>), () => {
              if (streams.get(key) === created) streams.delete(key);
            });
            streams.set(key, (stream = created));
          }
          const started = await stream.started;
          // An error result (bad arguments, say) is the same for every subscriber asking the same.
          if (!isIterator(started)) return started;
          // Its last subscriber left while this one waited: start afresh (a stream that ended by
          // itself ends this subscriber too).
          if (!stream.closed || fresh) return stream.join(subscribers);
        }
      });
    },
  };
}
