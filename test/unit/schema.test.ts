// The committed schema.graphql is the contract clients code against: it must match the code.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';

const root = new URL('../../', import.meta.url);
let printed: string;

beforeAll(() => {
  // In a process of its own, as `npm run schema:print` runs it.
  printed = execFileSync(process.execPath, ['--import', 'tsx', 'scripts/print-schema.ts', '--stdout'], { cwd: root, encoding: 'utf8' });
}, 60_000);

describe('schema.graphql', () => {
  it('matches the schema built from the code (run `npm run schema:print` after changing it)', () => {
    const committed = readFileSync(new URL('schema.graphql', root), 'utf8');
    expect(printed).toBe(committed);
  });

  it('keeps the contract names', () => {
    for (const piece of [
      'type ValidationError implements Error',
      'type NotFoundError implements Error',
      'eventUpdated(id: ID!): Event!',
      'eventsUpdated(subscriptionId: ID): Event!',
      'deliveryAttemptRecorded(eventId: ID, subscriptionId: ID): DeliveryAttempt!',
      'webhookSubscriptions(after: String, before: String, first: Int, last: Int): WebhookSubscriptionConnection!',
      'union IngestEventResult = Event | NotFoundError | ValidationError',
    ]) {
      expect(printed).toContain(piece);
    }
  });
});
