// Group commit: callers add one item each and wait for its result; items that arrive while
// earlier batches are being written go together in the next one. Under light load a batch is
// a single item written at once; under heavy load one statement (and one commit) carries many.

export interface BatcherOptions<In, Out> {
  /** Writes a batch; returns one result per item, in order. */
  run: (items: In[]) => Promise<Out[]>;
  /** Most items in one batch. */
  maxBatch: number;
  /** Batches written at the same time (each uses its own connection). */
  maxInFlight: number;
  /**
   * Whether a batch that failed with `error` is tried again one item at a time, so that one
   * bad item fails only its own caller. Not for errors every item would meet (a database down).
   */
  retryAlone?: (error: unknown) => boolean;
}

interface Waiting<In, Out> {
  item: In;
  resolve: (value: Out) => void;
  reject: (error: unknown) => void;
}

export class Batcher<In, Out> {
  private pending: Waiting<In, Out>[] = [];
  private inFlight = 0;
  private scheduled = false;

  constructor(private readonly options: BatcherOptions<In, Out>) {}

  add(item: In): Promise<Out> {
    return new Promise<Out>((resolve, reject) => {
      this.pending.push({ item, resolve, reject });
      this.schedule();
    });
  }

  /** Items waiting for a batch (not yet being written). */
  get waiting(): number {
    return this.pending.length;
  }

  private schedule(): void {
    if (this.scheduled || this.inFlight >= this.options.maxInFlight || this.pending.length === 0) return;
    this.scheduled = true;
    // Wait one turn of the event loop, so the items added by the same wave of I/O go together.
    setImmediate(() => {
      this.scheduled = false;
      this.flush();
    });
  }

  private flush(): void {
    while (this.inFlight < this.options.maxInFlight && this.pending.length > 0) {
      const batch = this.pending.splice(0, this.options.maxBatch);
      this.inFlight++;
      void this.write(batch).finally(() => {
        this.inFlight--;
        this.schedule();
      });
    }
  }

  private async write(batch: Waiting<In, Out>[]): Promise<void> {
    try {
      const results = await this.options.run(batch.map((waiting) => waiting.item));
      if (results.length !== batch.length) throw new Error(`a batch of ${batch.length} returned ${results.length} results`);
      batch.forEach((waiting, index) => waiting.resolve(results[index]!));
    } catch (error) {
      if (batch.length > 1 && this.options.retryAlone?.(error)) {
        await Promise.all(batch.map((waiting) => this.write([waiting])));
        return;
      }
      for (const waiting of batch) waiting.reject(error);
    }
  }
}
