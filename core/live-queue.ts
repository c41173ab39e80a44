// The async iterator a live subscriber reads: updates are pushed in, the reader takes them out.
// Lean on purpose: at thousands of updates a second per server, a general-purpose channel's
// extra promises per update showed up as a tenth of the server's CPU in garbage collection.

/**
 * An async iterator that can also hand its values on as they come, to a callback, instead of
 * to a reader: nothing then waits between values. A reader's awaits each leave a promise
 * waiting for the next value, and with a thousand subscribers hearing once a second those
 * outlive young-generation collections, which then copy and promote them.
 */
export interface Forwarding<T> extends AsyncIterableIterator<T> {
  /** From now on every value goes to `onValue` (buffered ones first), and the end to `onEnd`. */
  forward(onValue: (value: T) => void, onEnd: (error?: unknown) => void): void;
}

export function canForward<T>(iterator: AsyncIterator<T>): iterator is Forwarding<T> {
  return typeof (iterator as Partial<Forwarding<T>>).forward === 'function';
}

export class LiveQueue<T> implements Forwarding<T> {
  private readonly buffer: T[] = [];
  private sink: { value: (value: T) => void; end: (error?: unknown) => void } | null = null;
  private readonly readers: { resolve: (result: IteratorResult<T>) => void; reject: (error: unknown) => void }[] = [];
  private ended = false;
  private failure: { error: unknown } | null = null;

  constructor(
    /** A reader slower than this many pending updates loses the oldest rather than holding the rest up. */
    private readonly capacity: number,
    /** Called once, when the queue ends: by its reader's `return()` or by `end()`. */
    private readonly onEnd: () => void = () => {},
  ) {}

  get isEnded(): boolean {
    return this.ended;
  }

  push(value: T): void {
    if (this.ended) return;
    if (this.sink) return this.sink.value(value);
    const reader = this.readers.shift();
    if (reader) return reader.resolve({ value, done: false });
    if (this.buffer.length >= this.capacity) this.buffer.shift();
    this.buffer.push(value);
  }

  /** No more updates: the reader gets what is buffered, then the end (or `error`). */
  end(error?: unknown): void {
    if (this.ended) return;
    this.ended = true;
    if (this.sink) {
      this.sink.end(error);
      this.onEnd();
      return;
    }
    if (error !== undefined) this.failure = { error };
    for (const reader of this.readers.splice(0)) {
      if (this.failure) {
        reader.reject(this.failure.error);
        this.failure = null;
      } else reader.resolve({ value: undefined, done: true });
    }
    this.onEnd();
  }

  forward(onValue: (value: T) => void, onEnd: (error?: unknown) => void): void {
    for (const value of this.buffer.splice(0)) onValue(value);
    if (this.ended) {
      const failure = this.failure;
      this.failure = null;
      onEnd(failure?.error);
      return;
    }
    this.sink = { value: onValue, end: onEnd };
  }

  next(): Promise<IteratorResult<T>> {
    if (this.buffer.length > 0) return Promise.resolve({ value: this.buffer.shift()!, done: false });
    if (this.ended) {
      const failure = this.failure;
      this.failure = null;
      return failure ? Promise.reject(failure.error) : Promise.resolve({ value: undefined, done: true });
    }
    return new Promise((resolve, reject) => this.readers.push({ resolve, reject }));
  }

  return(): Promise<IteratorResult<T>> {
    this.buffer.length = 0;
    this.end();
    return Promise.resolve({ value: undefined, done: true });
  }

  throw(error: unknown): Promise<IteratorResult<T>> {
    this.buffer.length = 0;
    this.end();
    return Promise.reject(error);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}
