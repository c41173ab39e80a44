// A request's loaders: each kind is made once per request (when first asked for) and batches
// the loads asked for in one tick into one query; another request has its own.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../core/config.ts';
import { createServices, type Services } from '../../core/services.ts';
import { createLoaders, type Loaders } from '../../server/context.ts';
import { createSubscription, stack } from '../helpers/api.ts';

let services: Services;
beforeAll(() => {
  services = createServices(loadConfig(stack().env), 'test');
});
afterAll(async () => {
  await services.close();
});

/** A subscription id that no row has. */
const UNKNOWN_ID = 'a9a9a9a9-0000-4000-8000-000000000000';

const KINDS: (keyof Loaders)[] = ['subscriptionStats', 'eventCounts', 'lastAttempt', 'event', 'subscription'];

describe('request loaders', () => {
  it('hand out one loader of each kind per request, made on first use', () => {
    const first = createLoaders(services);
    const second = createLoaders(services);
    for (const kind of KINDS) {
      expect(first[kind], kind).toBe(first[kind]);
      expect(first[kind], kind).not.toBe(second[kind]);
    }
  });

  it('load what one tick asks for in one query, per request', async () => {
    const subscriptions = await Promise.all([1, 2, 3].map((n) => createSubscription({ name: `loaders-${n}`, targetUrl: 'http://127.0.0.1:9/never-called' })));
    const ids = subscriptions.map((subscription) => subscription.id);
    const queries: string[][] = [];
    // The real database, with the subscription lookups it is asked for written down.
    const db = services.db.$extends({
      query: {
        webhookSubscription: {
          findMany({ args, query }) {
            queries.push(((args.where?.id as { in?: string[] } | undefined)?.in ?? []).slice().sort());
            return query(args);
          },
        },
      },
    });
    const watched = { ...services, db } as unknown as Services;

    const request = createLoaders(watched);
    const rows = await Promise.all([...ids, UNKNOWN_ID].map((id) => request.subscription(id)));
    expect(rows.map((row) => row?.id ?? null)).toEqual([...ids, null]);
    expect(queries).toEqual([[...ids, UNKNOWN_ID].sort()]);

    // A later tick of the same request, and another request: a query each.
    await request.subscription(ids[0]!);
    await createLoaders(watched).subscription(ids[1]!);
    expect(queries.slice(1)).toEqual([[ids[0]], [ids[1]]]);
  });
});
