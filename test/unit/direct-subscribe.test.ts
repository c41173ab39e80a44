import { describe, expect, it } from 'vitest';
import { mapUpdates } from '../../server/direct-subscribe.ts';
import { LiveQueue } from '../../core/live-queue.ts';

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
