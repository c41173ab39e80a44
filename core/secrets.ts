// Secret rotation: a new secret at once, the old one still signing for a grace period so
// receivers can switch over without dropping a request.
import { NotFoundError, isUuid } from './errors.ts';
import type { WebhookSubscription } from './db.ts';
import type { Services } from './services.ts';
import { generateSecret } from './signing.ts';

export async function rotateWebhookSubscriptionSecret(services: Services, id: string): Promise<WebhookSubscription> {
  if (!isUuid(id)) throw new NotFoundError('webhook subscription', id);
  const expiresAt = new Date(Date.now() + services.config.secretRotationGraceMs);
  // One statement: the old secret moves aside as the new one arrives, whatever runs beside it.
  const rows = await services.db.$queryRaw<{ id: string }[]>`
    UPDATE "WebhookSubscription"
    SET "previousSecret" = secret, "previousSecretExpiresAt" = ${expiresAt}, secret = ${generateSecret()}, "updatedAt" = now()
    WHERE id = ${id}::uuid RETURNING id::text AS id`;
  if (rows.length === 0) throw new NotFoundError('webhook subscription', id);
  const rotated = await services.db.webhookSubscription.findUniqueOrThrow({ where: { id } });
  services.log.info('secret rotated', { subscriptionId: id, previousValidUntil: expiresAt.toISOString() });
  await services.publisher.publish('subscription-updated', rotated);
  return rotated;
}
