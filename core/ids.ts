// Ids of events and attempts: UUIDv7 (RFC 9562), a millisecond timestamp then random bits.
// Time-ordered ids put each new row at the right edge of the indexes on id, pages that stay
// in memory; random (v4) ids touch a random page of a million-row index per insert and per
// lookup, and cost more as the tables grow. Attempts' ids are made here; events' are made by
// PostgreSQL (hookd_event_id), whose time the sweeper's mark relies on.
import { randomUUID } from 'node:crypto';

/** A UUIDv7 for the time `now` (ms): its 48-bit timestamp, version 7, and 74 random bits. */
export function uuidv7(now: number = Date.now()): string {
  const time = Math.floor(now).toString(16).padStart(12, '0');
  // A v4 UUID supplies the random bits and the variant; its first 48 bits and its version give way.
  const random = randomUUID();
  return `${time.slice(0, 8)}-${time.slice(8, 12)}-7${random.slice(15)}`;
}

/** The creation time (ms) a UUIDv7 carries. */
export function uuidv7Time(id: string): number {
  return parseInt(id.slice(0, 8) + id.slice(9, 13), 16);
}

/** The smallest UUID a UUIDv7 made at `time` (ms) or later can have. */
export function uuidv7Floor(time: number): string {
  const hex = Math.max(0, Math.floor(time)).toString(16).padStart(12, '0');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-0000-0000-000000000000`;
}
