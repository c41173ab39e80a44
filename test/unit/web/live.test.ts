import { describe, expect, it } from 'vitest';
import { initialLiveState, LIVE_LIMIT, liveReducer, matchesLiveFilter, type LiveAttempt, type LiveState } from '../../../web/src/lib/live.ts';

let counter = 0;
function attempt(overrides: Partial<LiveAttempt> = {}): LiveAttempt {
  counter += 1;
  return {
    id: `a${counter}`,
    attemptNumber: 1,
    attemptedAt: '2025-01-01T12:00:00Z',
    durationMs: 12,
    success: true,
    responseStatus: 200,
    error: null,
    event: { id: `e${counter}`, eventType: 'order.created', status: 'DELIVERED' },
    subscription: { id: 's1', name: 'orders service' },
    ...overrides,
  };
}

const apply = (state: LiveState, ...attempts: LiveAttempt[]) => attempts.reduce((current, next) => liveReducer(current, { type: 'attempt', attempt: next }), state);

describe('liveReducer', () => {
  it('shows attempts newest first and counts them', () => {
    const [a, b, c] = [attempt(), attempt({ success: false, responseStatus: 500 }), attempt()];
    const state = apply(initialLiveState(), a, b, c);
    expect(state.shown.map((item) => item.id)).toEqual([c.id, b.id, a.id]);
    expect(state).toMatchObject({ succeeded: 2, failed: 1 });
  });

  it('counts an attempt delivered twice once', () => {
    const a = attempt();
    const state = apply(initialLiveState(), a, a);
    expect(state.shown).toHaveLength(1);
    expect(state.succeeded).toBe(1);
  });

  it('holds attempts while paused, still counting them, and shows them on resume', () => {
    const [a, b, c] = [attempt(), attempt(), attempt({ success: false })];
    let state = apply(initialLiveState(), a);
    state = liveReducer(state, { type: 'pause' });
    state = apply(state, b, c);
    expect(state.shown.map((item) => item.id)).toEqual([a.id]);
    expect(state.held.map((item) => item.id)).toEqual([c.id, b.id]);
    expect(state).toMatchObject({ succeeded: 2, failed: 1, paused: true });
    state = liveReducer(state, { type: 'resume' });
    expect(state.shown.map((item) => item.id)).toEqual([c.id, b.id, a.id]);
    expect(state.held).toEqual([]);
    expect(state.paused).toBe(false);
  });

  it('keeps at most LIVE_LIMIT attempts; clear empties the list but keeps the counts', () => {
    const many = Array.from({ length: LIVE_LIMIT + 5 }, () => attempt());
    let state = apply(initialLiveState(), ...many);
    expect(state.shown).toHaveLength(LIVE_LIMIT);
    expect(state.shown[0]!.id).toBe(many.at(-1)!.id);
    state = liveReducer(state, { type: 'clear' });
    expect(state.shown).toEqual([]);
    expect(state.succeeded).toBe(LIVE_LIMIT + 5);
  });
});

describe('matchesLiveFilter', () => {
  const failed = attempt({ success: false, responseStatus: 503, error: 'HTTP 503', event: { id: 'e-77', eventType: 'invoice.paid', status: 'RETRYING' }, subscription: { id: 's-9', name: 'Billing' } });

  it('matches everything when empty', () => {
    expect(matchesLiveFilter(failed, '  ')).toBe(true);
  });

  it('searches event type, subscription, status code, case-insensitively', () => {
    expect(matchesLiveFilter(failed, 'invoice')).toBe(true);
    expect(matchesLiveFilter(failed, 'billing')).toBe(true);
    expect(matchesLiveFilter(failed, '503')).toBe(true);
    expect(matchesLiveFilter(failed, 's-9')).toBe(true);
    expect(matchesLiveFilter(failed, 'failed')).toBe(true);
    expect(matchesLiveFilter(failed, '200')).toBe(false);
  });

  it('needs every word to match', () => {
    expect(matchesLiveFilter(failed, 'billing 503')).toBe(true);
    expect(matchesLiveFilter(failed, 'billing order')).toBe(false);
  });
});

describe('batches', () => {
  it('apply in arrival order, newest ending up first', () => {
    const [a, b] = [attempt(), attempt({ success: false })];
    const state = liveReducer(initialLiveState(), { type: 'attempts', attempts: [a, b] });
    expect(state.shown.map((item) => item.id)).toEqual([b.id, a.id]);
    expect(state).toMatchObject({ succeeded: 1, failed: 1 });
  });
});
