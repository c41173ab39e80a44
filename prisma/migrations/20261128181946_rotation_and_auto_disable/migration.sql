-- AlterTable
ALTER TABLE "WebhookSubscription" ADD COLUMN     "failingSince" TIMESTAMPTZ(3),
ADD COLUMN     "previousSecret" TEXT,
ADD COLUMN     "previousSecretExpiresAt" TIMESTAMPTZ(3);
