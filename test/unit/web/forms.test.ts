import { describe, expect, it } from 'vitest';
import { fieldErrorsByField, formatEventTypes, otherFieldErrors, parseEventTypes, targetUrlProblem } from '../../../web/src/lib/forms.ts';
import { suggestEventType } from '../../../web/src/components/TestEventForm.tsx';

describe('event types input', () => {
  it('splits on commas and line breaks, dropping blanks', () => {
    expect(parseEventTypes(' order.* , invoice.paid,,\n user.signup ')).toEqual(['order.*', 'invoice.paid', 'user.signup']);
    expect(parseEventTypes('   ')).toEqual([]);
  });

  it('joins back for editing', () => {
    expect(formatEventTypes(['a', 'b.*'])).toBe('a, b.*');
  });
});

describe('fieldErrorsByField', () => {
  it('keys messages by input field and names the list entry', () => {
    const byField = fieldErrorsByField(
      [
        { path: ['targetUrl'], message: 'must be an http(s) URL' },
        { path: ['eventTypes', '1'], message: 'is not a valid filter' },
        { path: ['eventTypes', '7'], message: 'is odd' },
        { path: ['secret'], message: 'is too short' },
      ],
      { eventTypes: ['order.*', 'bad type'] },
    );
    expect(byField).toEqual({
      targetUrl: ['must be an http(s) URL'],
      eventTypes: ['"bad type": is not a valid filter', 'entry 8: is odd'],
      secret: ['is too short'],
    });
    expect(otherFieldErrors(byField, ['targetUrl', 'eventTypes'])).toEqual(['secret: is too short']);
  });
});

describe('targetUrlProblem', () => {
  it('wants an absolute http(s) URL', () => {
    expect(targetUrlProblem('')).toBe('is required');
    expect(targetUrlProblem('example.com/hooks')).toMatch(/absolute URL/);
    expect(targetUrlProblem('ftp://example.com')).toMatch(/http/);
    expect(targetUrlProblem(' https://example.com/hooks ')).toBeNull();
    expect(targetUrlProblem('http://127.0.0.1:4100/ok')).toBeNull();
  });
});

describe('suggestEventType', () => {
  it('prefills from the filters', () => {
    expect(suggestEventType(['invoice.paid', 'order.*'])).toBe('invoice.paid');
    expect(suggestEventType(['order.*'])).toBe('order.test');
    expect(suggestEventType(['*'])).toBe('test.ping');
    expect(suggestEventType([])).toBe('test.ping');
  });
});
