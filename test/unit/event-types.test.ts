import { describe, expect, it } from 'vitest';
import {
  MAX_EVENT_TYPE_LENGTH,
  eventTypeFilterProblem,
  eventTypeMatches,
  eventTypeProblem,
} from '../../core/event-types.ts';

describe('eventTypeMatches', () => {
  describe('with no filters', () => {
    it.each(['order.created', 'anything', 'a.b.c.d'])('matches %j', (eventType) => {
      expect(eventTypeMatches([], eventType)).toBe(true);
    });

    it('matches an event without a type (null or undefined)', () => {
      expect(eventTypeMatches([], null)).toBe(true);
      expect(eventTypeMatches([], undefined)).toBe(true);
    });
  });

  describe('an exact filter', () => {
    it('matches the same type', () => {
      expect(eventTypeMatches(['order.created'], 'order.created')).toBe(true);
    });

    it.each(['order.updated', 'order', 'order.created.v2', 'Order.created', 'xorder.created', 'order.create'])(
      'does not match %j',
      (eventType) => {
        expect(eventTypeMatches(['order.created'], eventType)).toBe(false);
      },
    );

    it('does not treat a bare word as a prefix', () => {
      expect(eventTypeMatches(['order'], 'order.created')).toBe(false);
      expect(eventTypeMatches(['order'], 'order')).toBe(true);
    });
  });

  describe('a prefix filter (`order.*`)', () => {
    it.each(['order.created', 'order.item.added', 'order.x'])('matches %j', (eventType) => {
      expect(eventTypeMatches(['order.*'], eventType)).toBe(true);
    });

    it.each(['order', 'orders.created', 'orderx.created', 'customer.order.created', 'Order.created', 'ord'])(
      'does not match %j',
      (eventType) => {
        expect(eventTypeMatches(['order.*'], eventType)).toBe(false);
      },
    );

    it('works at deeper levels', () => {
      expect(eventTypeMatches(['order.item.*'], 'order.item.added')).toBe(true);
      expect(eventTypeMatches(['order.item.*'], 'order.items.added')).toBe(false);
      expect(eventTypeMatches(['order.item.*'], 'order.created')).toBe(false);
      expect(eventTypeMatches(['order.item.*'], 'order.item')).toBe(false);
    });

    it('treats the `*` only as a suffix wildcard, not inside the type', () => {
      expect(eventTypeMatches(['order.*'], 'order.*')).toBe(true);
      expect(eventTypeMatches(['*.created'], 'order.created')).toBe(false);
    });
  });

  describe('the `*` filter', () => {
    it.each(['order.created', 'a', 'x.y.z'])('matches %j', (eventType) => {
      expect(eventTypeMatches(['*'], eventType)).toBe(true);
    });

    it('matches when listed among other filters', () => {
      expect(eventTypeMatches(['customer.created', '*'], 'order.created')).toBe(true);
    });
  });

  describe('several filters', () => {
    const filters = ['customer.created', 'order.*', 'invoice.paid'];

    it.each(['customer.created', 'order.created', 'order.item.added', 'invoice.paid'])('match %j if any matches', (eventType) => {
      expect(eventTypeMatches(filters, eventType)).toBe(true);
    });

    it.each(['customer.deleted', 'invoice.sent', 'order'])('do not match %j if none matches', (eventType) => {
      expect(eventTypeMatches(filters, eventType)).toBe(false);
    });
  });

  describe('an event without a type and non-empty filters', () => {
    it.each([[['order.created']], [['order.*']], [['customer.created', 'order.*']], [['']]])(
      'does not match %j',
      (filters) => {
        expect(eventTypeMatches(filters, null)).toBe(false);
        expect(eventTypeMatches(filters, undefined)).toBe(false);
      },
    );
  });
});

describe('eventTypeProblem', () => {
  it.each([
    'order.created',
    'order',
    'order.item.added',
    'Order_Created',
    'billing:invoice-paid.v2',
    'a.b.c.d.e',
    '123',
    'x'.repeat(MAX_EVENT_TYPE_LENGTH),
  ])('accepts %j', (eventType) => {
    expect(eventTypeProblem(eventType)).toBeNull();
  });

  it.each(['', ' ', '\t\n'])('rejects the blank type %j', (eventType) => {
    expect(eventTypeProblem(eventType)).toBe('must not be empty');
  });

  it('allows up to 200 characters', () => {
    expect(MAX_EVENT_TYPE_LENGTH).toBe(200);
    expect(eventTypeProblem('a.'.repeat(99) + 'ab')).toBeNull();
  });

  it('rejects 201 characters', () => {
    expect(eventTypeProblem('x'.repeat(MAX_EVENT_TYPE_LENGTH + 1))).toBe('must be at most 200 characters');
  });

  it.each([
    '.order',
    'order.',
    'order..created',
    '.',
    'order created',
    ' order.created',
    'order.created ',
    'order.*',
    '*',
    'order/created',
    'ordér.created',
    'order.created!',
  ])('rejects the malformed type %j', (eventType) => {
    expect(eventTypeProblem(eventType)).toMatch(/^may contain only letters, digits/);
  });
});

describe('eventTypeFilterProblem', () => {
  it.each(['*', 'order.*', 'order.item.*', 'order.created', 'order', 'billing:invoice-paid.*'])('accepts %j', (filter) => {
    expect(eventTypeFilterProblem(filter)).toBeNull();
  });

  it.each(['', ' '])('rejects the blank filter %j', (filter) => {
    expect(eventTypeFilterProblem(filter)).toBe('must not be empty');
  });

  it('rejects `.*` with nothing before it', () => {
    expect(eventTypeFilterProblem('.*')).toBe('must not be empty');
  });

  it.each(['*.created', 'order*', 'order.*.created', 'order.**', 'order.*.*', '**', 'order..*', '.order.*', 'order. *'])(
    'rejects the malformed filter %j',
    (filter) => {
      expect(eventTypeFilterProblem(filter)).toMatch(/^may contain only letters, digits/);
    },
  );

  it('applies the length limit to the part before `.*`', () => {
    const prefix = 'x'.repeat(MAX_EVENT_TYPE_LENGTH);
    expect(eventTypeFilterProblem(`${prefix}.*`)).toBeNull();
    expect(eventTypeFilterProblem(`x${prefix}.*`)).toBe('must be at most 200 characters');
  });
});
