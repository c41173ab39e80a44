// Putting deliveries on the queue from the services: Redis trouble is logged, never fatal,
// because the worker's sweeper enqueues again whatever PostgreSQL says is due.
import type { DeliveryRequest } from './queue.ts';
import type { Services } from './services.ts';

/** Enqueues deliveries; when Redis cannot take them the sweeper will, so this never fails. */
export async function enqueueDeliveries(services: Services, requests: DeliveryRequest[], options: { shared?: boolean } = {}): Promise<void> {
  try {
    await services.queue.enqueue(requests, options);
  } catch (error) {
    services.log.warn('could not enqueue; the sweeper will pick these up', {
      events: requests.length,
      error: (error as Error).message,
    });
  }
}

/** On resume: enqueue the events a PAUSED subscription held, each when it is due. */
export async function requeueHeldEvents(services: Services, subscriptionId: string): Promise<void> {
  const PAGE = 1_000;
  let cursor: string | undefined;
  for (;;) {
    const held = await services.db.event.findMany({
      where: { subscriptionId, status: { in: ['PENDING', 'RETRYING'] } },
      select: { id: true, attemptCount: true, nextAttemptAt: true },
      orderBy: { id: 'asc' },
      take: PAGE,
      ...(cursor ? { cursor: { id: cursor }, skip: 1 } : {}),
    });
    await enqueueDeliveries(
      services,
      held.map((event) => ({ eventId: event.id, attempt: event.attemptCount + 1, notBefore: event.nextAttemptAt })),
    );
    if (held.length < PAGE) return;
    cursor = held[held.length - 1]!.id;
  }
}
