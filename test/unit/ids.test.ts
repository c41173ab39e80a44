import { describe, expect, it } from 'vitest';
import { uuidv7, uuidv7Floor, uuidv7Time } from '../../core/ids.ts';

const V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('uuidv7', () => {
  it('is a version 7, RFC 9562 variant UUID carrying its time', () => {
    const now = Date.UTC(2026, 10, 29, 1, 2, 3, 456);
    const id = uuidv7(now);
    expect(id).toMatch(V7);
    expect(uuidv7Time(id)).toBe(now);
    const hex = now.toString(16).padStart(12, '0');
    expect(id.slice(0, 13)).toBe(`${hex.slice(0, 8)}-${hex.slice(8)}`);
  });

  it('sorts by time across milliseconds, as text and as PostgreSQL compares uuids (bytewise)', () => {
    const times = [0, 1, 255, 256, 1_700_000_000_000, 1_700_000_000_001, 2 ** 47, 2 ** 48 - 1];
    const ids = times.map((time) => uuidv7(time));
    expect([...ids].sort()).toEqual(ids);
    for (const [index, id] of ids.entries()) expect(uuidv7Time(id)).toBe(times[index]);
  });

  it('differs within one millisecond', () => {
    const ids = new Set(Array.from({ length: 10_000 }, () => uuidv7(1_800_000_000_000)));
    expect(ids.size).toBe(10_000);
    for (const id of ids) expect(id).toMatch(V7);
  });
});

describe('uuidv7Floor', () => {
  it('sorts at or below every UUIDv7 of its millisecond and later, and above every earlier one', () => {
    for (const time of [0, 1, 1_700_000_000_000, 2 ** 48 - 2]) {
      const floor = uuidv7Floor(time);
      expect(uuidv7Time(floor)).toBe(time);
      for (let n = 0; n < 100; n++) {
        expect(uuidv7(time) >= floor).toBe(true);
        expect(uuidv7(time + 1) > floor).toBe(true);
        if (time > 0) expect(uuidv7(time - 1) < floor).toBe(true);
      }
    }
  });

  it('is a valid UUID text PostgreSQL accepts (8-4-4-4-12 hex)', () => {
    expect(uuidv7Floor(Date.UTC(2026, 10, 29))).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-0000-0000-000000000000$/);
    expect(uuidv7Floor(-5)).toBe('00000000-0000-0000-0000-000000000000');
  });
});
