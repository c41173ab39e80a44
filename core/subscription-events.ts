// Subscription changes the system makes by itself (auto-disable), told to watchers and the cache.
import type { Services } from './services.ts';
import { forgetCachedSubscription } from './subscriptions.ts';

/** After a subscription was disabled: drop its cached route and publish the change. */
export async function announceDisabled(services: Services, subscriptionId: string, reason: string): Promise<void> {
  services.log.warn('subscription disabled', { subscriptionId, reason });
  await forgetCachedSubscription(services, subscriptionId);
  const subscription = await services.db.webhookSubscription.findUnique({ where: { id: subscriptionId } });
  if (subscription) await services.publisher.publish('subscription-updated', subscription);
}
