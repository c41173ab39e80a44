import { describe, expect, it } from 'vitest';
import { Batcher } from '../../core/batcher.ts';

/** A run function whose batches the test releases by hand. */
function controlledRun() {
  const batches: { items: number[]; release: (results?: number[]) => void; fail: (error: Error) => void }[] = [];
  const run = (items: number[]) =>
    new Promise<number[]>((resolve, reject) => {
      batches.push({ items, release: (results) => resolve(results ?? items.map((item) => item * 10)), fail: reject });
    });
  return { batches, run };
}

const turn = () => new Promise((resolve) => setImmediate(resolve));
/** Lets the event loop turn until `condition` holds (a few turns at most). */
async function turnsUntil(condition: () => boolean): Promise<void> {
  for (let turns = 0; turns < 20 && !condition(); turns++) await turn();
}

describe('Batcher (group commit)', () => {
  it('writes items added in the same turn as one batch and answers each with its own result', async () => {
    const { batches, run } = controlledRun();
    const batcher = new Batcher({ run, maxBatch: 100, maxInFlight: 1 });
    const answers = [1, 2, 3].map((item) => batcher.add(item));
    await turn();
    expect(batches.map((batch) => batch.items)).toEqual([[1, 2, 3]]);
    batches[0]!.release();
    expect(await Promise.all(answers)).toEqual([10, 20, 30]);
  });

  it('gathers items that arrive while a batch is in flight into the next batch', async () => {
    const { batches, run } = controlledRun();
    const batcher = new Batcher({ run, maxBatch: 100, maxInFlight: 1 });
    const first = batcher.add(1);
    await turn();
    const later = [2, 3, 4].map((item) => batcher.add(item));
    await turn();
    expect(batches).toHaveLength(1);
    expect(batcher.waiting).toBe(3);
    batches[0]!.release();
    expect(await first).toBe(10);
    await turnsUntil(() => batches.length === 2);
    expect(batches.map((batch) => batch.items)).toEqual([[1], [2, 3, 4]]);
    batches[1]!.release();
    expect(await Promise.all(later)).toEqual([20, 30, 40]);
  });

  it('splits at maxBatch and runs up to maxInFlight batches at once', async () => {
    const { batches, run } = controlledRun();
    const batcher = new Batcher({ run, maxBatch: 2, maxInFlight: 2 });
    const answers = [1, 2, 3, 4, 5].map((item) => batcher.add(item));
    await turn();
    expect(batches.map((batch) => batch.items)).toEqual([[1, 2], [3, 4]]);
    batches[0]!.release();
    await turnsUntil(() => batches.length === 3);
    expect(batches.map((batch) => batch.items)).toEqual([[1, 2], [3, 4], [5]]);
    batches[1]!.release();
    batches[2]!.release();
    expect(await Promise.all(answers)).toEqual([10, 20, 30, 40, 50]);
  });

  it('rejects every item of a failed batch when the error is not one to retry item by item', async () => {
    const { batches, run } = controlledRun();
    const batcher = new Batcher({ run, maxBatch: 10, maxInFlight: 1, retryAlone: (error) => !String(error).includes('down') });
    const answers = [1, 2].map((item) => batcher.add(item));
    await turn();
    batches[0]!.fail(new Error('database down'));
    for (const answer of answers) await expect(answer).rejects.toThrow('database down');
  });

  it('retries a failed batch item by item, so one bad item fails only its own caller', async () => {
    const { batches, run } = controlledRun();
    const batcher = new Batcher({ run, maxBatch: 10, maxInFlight: 1, retryAlone: () => true });
    const answers = [3, 4, 5].map((item) => batcher.add(item));
    await turn();
    batches[0]!.fail(new Error('row 4 is bad'));
    await turnsUntil(() => batches.length === 4);
    expect(batches.slice(1).map((batch) => batch.items)).toEqual([[3], [4], [5]]);
    batches[1]!.release();
    batches[2]!.fail(new Error('row 4 is bad'));
    batches[3]!.release();
    expect(await answers[0]).toBe(30);
    await expect(answers[1]).rejects.toThrow('row 4 is bad');
    expect(await answers[2]).toBe(50);
  });

  it('rejects the batch when the run returns the wrong number of results', async () => {
    const { batches, run } = controlledRun();
    const batcher = new Batcher({ run, maxBatch: 10, maxInFlight: 1 });
    const answers = [1, 2].map((item) => batcher.add(item));
    await turn();
    batches[0]!.release([10]);
    for (const answer of answers) await expect(answer).rejects.toThrow('returned 1 results');
  });
});
