// Subscription changes the system makes by itself (auto-disable), told to watchers.
import type { Services } from './services.ts';

/** After a subscription was disabled: publish the change (servers' cached routes meet its new version at their next INSERT). */
export async function announceDisabled(services: Services, subscriptionId: string, reason: string): Promise<void> {
  services.log.warn('subscription disabled', { subscriptionId, reason });
  const subscription = await services.db.webhookSubscription.findUnique({ where: { id: subscriptionId } });
  if (subscription) await services.publisher.publish('subscription-updated', subscription);
}
