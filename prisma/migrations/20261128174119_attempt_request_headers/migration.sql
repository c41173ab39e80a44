-- AlterTable
ALTER TABLE "DeliveryAttempt" ADD COLUMN     "requestHeaders" JSONB;
