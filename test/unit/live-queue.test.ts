import { describe, expect, it } from 'vitest';
import { LiveQueue } from '../../core/live-queue.ts';

describe('LiveQueue', () => {
  it('hands a waiting reader the next update, and buffers updates nobody waits for', async () => {
    const queue = new LiveQueue<number>(10);
    const first = queue.next();
    queue.push(1);
    queue.push(2);
    queue.push(3);
    expect(await first).toEqual({ value: 1, done: false });
    expect(await queue.next()).toEqual({ value: 2, done: false });
    expect(await queue.next()).toEqual({ value: 3, done: false });
  });

  it('drops the oldest update past its capacity', async () => {
    const queue = new LiveQueue<number>(2);
    for (const value of [1, 2, 3]) queue.push(value);
    expect(await queue.next()).toEqual({ value: 2, done: false });
    expect(await queue.next()).toEqual({ value: 3, done: false });
  });

  it('ends once: return() calls onEnd, ends waiting readers and ignores later pushes', async () => {
    let ends = 0;
    const queue = new LiveQueue<number>(10, () => ends++);
    const waiting = queue.next();
    expect(await queue.return()).toEqual({ value: undefined, done: true });
    expect(await waiting).toEqual({ value: undefined, done: true });
    queue.push(1);
    queue.end();
    expect(await queue.next()).toEqual({ value: undefined, done: true });
    expect(ends).toBe(1);
    expect(queue.isEnded).toBe(true);
  });

  it('gives what is buffered before the end, then the error it ended with', async () => {
    const queue = new LiveQueue<number>(10);
    queue.push(1);
    queue.end(new Error('source failed'));
    expect(await queue.next()).toEqual({ value: 1, done: false });
    await expect(queue.next()).rejects.toThrow('source failed');
    expect(await queue.next()).toEqual({ value: undefined, done: true });
  });

  it('works with for await, ending the loop when the producer ends it', async () => {
    const queue = new LiveQueue<string>(10);
    setImmediate(() => {
      queue.push('a');
      queue.push('b');
      queue.end();
    });
    const seen: string[] = [];
    for await (const value of queue) seen.push(value);
    expect(seen).toEqual(['a', 'b']);
  });
});

describe('LiveQueue.forward', () => {
  it('hands over what is buffered, then every push as it comes', async () => {
    const queue = new LiveQueue<number>(10);
    queue.push(1);
    queue.push(2);
    const seen: number[] = [];
    queue.forward((value) => seen.push(value), () => seen.push(-1));
    expect(seen).toEqual([1, 2]);
    queue.push(3);
    expect(seen).toEqual([1, 2, 3]);
  });

  it('passes the end and its error on once, and calls onEnd', () => {
    let ended = 0;
    const queue = new LiveQueue<number>(10, () => ended++);
    const ends: unknown[] = [];
    queue.forward(() => {}, (error) => ends.push(error));
    const failure = new Error('gone');
    queue.end(failure);
    queue.end();
    queue.push(4);
    expect(ends).toEqual([failure]);
    expect(ended).toBe(1);
  });

  it('return() ends a forwarding queue with no error', async () => {
    const queue = new LiveQueue<number>(10);
    const ends: unknown[] = [];
    queue.forward(() => {}, (error) => ends.push(error ?? 'clean'));
    await queue.return();
    expect(ends).toEqual(['clean']);
  });

  it('on a queue already ended, hands over what is buffered, then the end', () => {
    const queue = new LiveQueue<number>(10);
    queue.push(5);
    const failure = new Error('closed');
    queue.end(failure);
    const seen: unknown[] = [];
    queue.forward((value) => seen.push(value), (error) => seen.push(error));
    expect(seen).toEqual([5, failure]);
  });
});
