// Per-request batching: loads asked for in the same tick become one query (no N+1 on lists).

export type Load<K, V> = (key: K) => Promise<V>;

export function batched<K, V>(loadMany: (keys: K[]) => Promise<Map<K, V>>): Load<K, V> {
  let pending: { key: K; resolve: (value: V) => void; reject: (error: unknown) => void }[] = [];
  const flush = async () => {
    const batch = pending;
    pending = [];
    try {
      const values = await loadMany([...new Set(batch.map((item) => item.key))]);
      for (const item of batch) item.resolve(values.get(item.key) as V);
    } catch (error) {
      for (const item of batch) item.reject(error);
    }
  };
  return (key) =>
    new Promise<V>((resolve, reject) => {
      if (pending.length === 0) setImmediate(() => void flush());
      pending.push({ key, resolve, reject });
    });
}
