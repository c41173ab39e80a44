import { describe, expect, it } from 'vitest';
import { matchRoute, paths } from '../../../web/src/router.tsx';
import { attemptErrorText, attemptOutcome, canRedeliver, eventStatusTone, EVENT_STATUSES, isEventStatus, subscriptionStatusTone } from '../../../web/src/lib/status.ts';

describe('matchRoute', () => {
  it.each([
    ['/', { name: 'subscriptions' }],
    ['/live', { name: 'live' }],
    ['/live/', { name: 'live' }],
    ['/subscriptions/abc-123', { name: 'subscription', id: 'abc-123' }],
    ['/events/e%201', { name: 'event', id: 'e 1' }],
    ['/nope', { name: 'not-found', path: '/nope' }],
    ['/subscriptions/a/b', { name: 'not-found', path: '/subscriptions/a/b' }],
  ])('%s', (path, route) => {
    expect(matchRoute(path)).toEqual(route);
  });

  it('round-trips the paths it builds', () => {
    expect(matchRoute(paths.subscription('x/y'))).toEqual({ name: 'subscription', id: 'x/y' });
    expect(matchRoute(paths.event('e1'))).toEqual({ name: 'event', id: 'e1' });
    expect(paths.live()).toBe('/live');
    expect(paths.subscriptions()).toBe('/');
  });
});

describe('statuses', () => {
  it('gives every event status a tone', () => {
    expect(EVENT_STATUSES.map(eventStatusTone)).toEqual(['neutral', 'info', 'warning', 'success', 'danger', 'muted']);
    expect(isEventStatus('RETRYING')).toBe(true);
    expect(isEventStatus('retrying')).toBe(false);
    expect(subscriptionStatusTone('PAUSED')).toBe('warning');
  });

  it('allows redelivery of finished events only', () => {
    expect(canRedeliver('DELIVERED')).toBe(true);
    expect(canRedeliver('FAILED')).toBe(true);
    expect(canRedeliver('RETRYING')).toBe(false);
    expect(canRedeliver('PENDING')).toBe(false);
  });

  it('sums an attempt up in a word', () => {
    expect(attemptOutcome({ success: true, responseStatus: 204, error: null })).toBe('204');
    expect(attemptOutcome({ success: false, responseStatus: null, error: 'timed out after 10000 ms' })).toBe('timeout');
    expect(attemptOutcome({ success: false, responseStatus: null, error: 'connection refused' })).toBe('error');
  });
});

describe('attemptErrorText', () => {
  it('drops an error that only repeats the status code', () => {
    expect(attemptErrorText({ responseStatus: 500, error: 'HTTP 500' })).toBeNull();
    expect(attemptErrorText({ responseStatus: null, error: 'connection refused' })).toBe('connection refused');
    expect(attemptErrorText({ responseStatus: 200, error: null })).toBeNull();
  });
});
