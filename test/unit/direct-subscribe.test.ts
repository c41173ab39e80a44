import { describe, expect, it } from 'vitest';
import { executeUpdates, mapUpdates } from '../../server/direct-subscribe.ts';
import { LiveQueue, canForward } from '../../core/live-queue.ts';
import { waitFor } from '../helpers/wait.ts';

describe('mapUpdates', () => {
  it('executes each update in order, awaiting results that are promises', async () => {
    const source = new LiveQueue<number>(10);
    const results = mapUpdates(source, (update) => (update === 2 ? Promise.resolve({ data: { n: 20 } }) : { data: { n: (update as number) * 10 } }));
    source.push(1);
    source.push(2);
    source.push(3);
    expect(await results.next()).toEqual({ done: false, value: { data: { n: 10 } } });
    expect(await results.next()).toEqual({ done: false, value: { data: { n: 20 } } });
    expect(await results.next()).toEqual({ done: false, value: { data: { n: 30 } } });
  });

  it('ends when its source ends', async () => {
    const source = new LiveQueue<number>(10);
    const results = mapUpdates(source, () => ({ data: {} }));
    const pending = results.next();
    source.end();
    expect(await pending).toEqual({ done: true, value: undefined });
  });

  it('return() ends the source, releasing a waiting reader', async () => {
    let ended = false;
    const source = new LiveQueue<number>(10, () => (ended = true));
    const results = mapUpdates(source, () => ({ data: {} }));
    const pending = results.next();
    expect(await results.return!()).toEqual({ done: true, value: undefined });
    expect(ended).toBe(true);
    expect(await pending).toEqual({ done: true, value: undefined });
  });

  it('throw() ends the source and rethrows', async () => {
    let ended = false;
    const source = new LiveQueue<number>(10, () => (ended = true));
    const results = mapUpdates(source, () => ({ data: {} }));
    await expect(results.throw!(new Error('stop'))).rejects.toThrow('stop');
    expect(ended).toBe(true);
  });
});

describe('executeUpdates', () => {
  type Result = { data: { n: number } };
  function forwarded(run: (update: number) => Result | Promise<Result>) {
    const source = new LiveQueue<number>(10);
    const results = executeUpdates(source, (update) => run(update as number));
    const seen: number[] = [];
    const ends: unknown[] = [];
    if (!canForward(results)) throw new Error('a live queue source should forward');
    results.forward((result) => seen.push((result as Result).data.n), (error) => ends.push(error ?? 'clean'));
    return { source, seen, ends };
  }

  it('over a live queue, executes each update as it is pushed', () => {
    const { source, seen } = forwarded((n) => ({ data: { n: n * 10 } }));
    source.push(1);
    source.push(2);
    expect(seen).toEqual([10, 20]);
  });

  it('keeps the order of updates when an earlier result waits for a resolver', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const { source, seen, ends } = forwarded((n) => (n === 1 ? gate.then(() => ({ data: { n } })) : { data: { n } }));
    source.push(1);
    source.push(2);
    source.push(3);
    source.end();
    await new Promise((resolve) => setImmediate(resolve));
    expect(seen).toEqual([]);
    expect(ends).toEqual([]);
    release();
    await waitFor(() => ends.length === 1, { what: 'the end after the held results' });
    expect(seen).toEqual([1, 2, 3]);
    expect(ends).toEqual(['clean']);
  });

  it('ends with the error of a failed execution and ends its source', async () => {
    const failure = new Error('resolver blew up');
    const { source, seen, ends } = forwarded((n) => (n === 2 ? Promise.reject(failure) : { data: { n } }));
    source.push(1);
    source.push(2);
    await waitFor(() => ends.length === 1, { what: 'the failure' });
    source.push(3);
    expect(seen).toEqual([1]);
    expect(ends).toEqual([failure]);
    expect(source.isEnded).toBe(true);
  });

  it('reads a source that cannot forward', () => {
    const source = (async function* () {
      yield 1;
    })();
    expect(canForward(executeUpdates(source, () => ({ data: {} })))).toBe(false);
  });
});
