// The DateTime scalar: what it sends for Dates and for the ISO strings of rows that crossed Redis.
import { GraphQLScalarType } from 'graphql';
import { describe, expect, it } from 'vitest';
import { schema } from '../../server/schema/index.ts';

const dateTime = schema.getType('DateTime') as GraphQLScalarType;

describe('DateTime', () => {
  it('sends a Date as its ISO-8601 string in UTC', () => {
    expect(dateTime.serialize(new Date(Date.UTC(2026, 10, 30, 6, 5, 4, 3)))).toBe('2026-11-30T06:05:04.003Z');
  });

  it('sends a string already in that form as it is', () => {
    expect(dateTime.serialize('2026-11-30T06:05:04.003Z')).toBe('2026-11-30T06:05:04.003Z');
  });

  it('turns other instants into that form', () => {
    expect(dateTime.serialize('2026-11-30T07:05:04+01:00')).toBe('2026-11-30T06:05:04.000Z');
    expect(dateTime.serialize('2026-11-30T06:05:04Z')).toBe('2026-11-30T06:05:04.000Z');
  });

  it('refuses what is not an instant', () => {
    expect(() => dateTime.serialize('yesterday')).toThrow();
  });
});
