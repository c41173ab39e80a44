// The server's in-memory subscription routes (core/subscriptions.ts): what it reads, keeps and drops.
import { describe, expect, it } from 'vitest';
import { RouteCache, type SubscriptionRoute } from '../../core/subscriptions.ts';

const id = (n: number) => `0190f0a4-0000-7000-8000-${String(n).padStart(12, '0')}`;
const route = (n: number, routeVersion = 0): SubscriptionRoute => ({ id: id(n), status: 'ACTIVE', eventTypes: [], routeVersion });

/** A cache over a table held here, counting the reads it makes. */
function cacheOver(table: Map<string, SubscriptionRoute>, maxEntries?: number) {
  const reads: string[][] = [];
  const cache = new RouteCache(async (ids) => {
    reads.push(ids);
    return ids.flatMap((wanted) => (table.has(wanted) ? [table.get(wanted)!] : []));
  }, maxEntries);
  return { cache, reads };
}

describe('RouteCache', () => {
  it('reads the misses in one call and answers hits without reading', async () => {
    const table = new Map([route(1), route(2)].map((r) => [r.id, r]));
    const { cache, reads } = cacheOver(table);
    expect([...(await cache.get([id(1), id(2), id(1)])).keys()]).toEqual([id(1), id(2)]);
    expect(reads).toEqual([[id(1), id(2)]]);
    expect((await cache.get([id(2)])).get(id(2))).toEqual(route(2));
    expect(reads).toHaveLength(1);
  });

  it('leaves out unknown ids and never reads malformed ones', async () => {
    const { cache, reads } = cacheOver(new Map([[id(1), route(1)]]));
    const found = await cache.get([id(1), id(9), 'not-a-uuid']);
    expect([...found.keys()]).toEqual([id(1)]);
    expect(reads).toEqual([[id(1), id(9)]]);
    // Unknown ids are not remembered as absent: a subscription created later is found.
    expect(cache.size).toBe(1);
  });

  it('refresh replaces what it finds and forgets what is gone', async () => {
    const table = new Map([route(1), route(2)].map((r) => [r.id, r]));
    const { cache } = cacheOver(table);
    await cache.get([id(1), id(2)]);
    table.set(id(1), route(1, 4));
    table.delete(id(2));
    const fresh = await cache.refresh([id(1), id(2)]);
    expect(fresh.get(id(1))?.routeVersion).toBe(4);
    expect(fresh.has(id(2))).toBe(false);
    expect((await cache.get([id(1)])).get(id(1))?.routeVersion).toBe(4);
    expect(cache.size).toBe(1);
  });

  it('keeps at most maxEntries, dropping the least recently used', async () => {
    const table = new Map([1, 2, 3, 4].map((n) => [id(n), route(n)]));
    const { cache, reads } = cacheOver(table, 3);
    await cache.get([id(1), id(2), id(3)]);
    await cache.get([id(1)]); // 2 is now the least recently used
    await cache.get([id(4)]);
    expect(cache.size).toBe(3);
    reads.length = 0;
    await cache.get([id(1), id(3), id(4)]);
    expect(reads).toEqual([]);
    await cache.get([id(2)]);
    expect(reads).toEqual([[id(2)]]);
  });

  it('forget drops one route, so the next get reads it', async () => {
    const { cache, reads } = cacheOver(new Map([[id(1), route(1)]]));
    await cache.get([id(1)]);
    cache.forget(id(1));
    await cache.get([id(1)]);
    expect(reads).toEqual([[id(1)], [id(1)]]);
  });
});
