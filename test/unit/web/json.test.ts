import { describe, expect, it } from 'vitest';
import { checkJson, findJsonProblem, lineAndColumn } from '../../../web/src/lib/json.ts';

describe('checkJson', () => {
  it('returns the parsed value of valid JSON', () => {
    expect(checkJson('{"orderId": 42, "items": [1, 2]}')).toEqual({ ok: true, value: { orderId: 42, items: [1, 2] } });
    expect(checkJson(' "just a string" ')).toEqual({ ok: true, value: 'just a string' });
    expect(checkJson('[]')).toEqual({ ok: true, value: [] });
    expect(checkJson('false')).toEqual({ ok: true, value: false });
  });

  it('refuses empty input and null (the API requires a payload)', () => {
    const empty = checkJson('   ');
    expect(empty.ok).toBe(false);
    if (!empty.ok) expect(empty.message).toMatch(/empty/);
    const nul = checkJson('null');
    expect(nul.ok).toBe(false);
    if (!nul.ok) expect(nul.message).toMatch(/null/);
  });

  it('says where a missing property name is', () => {
    const result = checkJson('{"a": 1,, }');
    expect(result).toMatchObject({ ok: false, position: 8, line: 1, column: 9 });
    if (!result.ok) expect(result.message).toBe('Expected a property name in double quotes at line 1, column 9');
  });

  it('counts lines and columns across line breaks', () => {
    const text = '{\n  "a": 1,\n  "b": tru\n}';
    const result = checkJson(text);
    expect(result).toMatchObject({ ok: false, line: 3, column: 11 });
  });

  it('names common mistakes', () => {
    const cases: [string, RegExp][] = [
      ["{'a': 1}", /property name in double quotes/],
      ["['a']", /double quotes/],
      ['{"a": 1,}', /Trailing comma/],
      ['[1, 2,]', /Trailing comma/],
      ['{"a": 1', /not closed/],
      ['{"a" 1}', /Expected ':'/],
      ['{"a": 1 "b": 2}', /Expected ',' or '}'/],
      ['"abc', /Unterminated string/],
      ['"a\tb"', /control character/],
      ['"\\x"', /Invalid escape/],
      ['{"a": 01}', /Invalid number/],
      ['{} {}', /after the JSON value/],
      ['{"a": undefined}', /Unexpected character "u"/],
    ];
    for (const [text, message] of cases) {
      const result = checkJson(text);
      expect(result.ok, text).toBe(false);
      if (!result.ok) {
        expect(result.message, text).toMatch(message);
        expect(result.position, text).not.toBeNull();
      }
    }
  });
});

describe('findJsonProblem', () => {
  it('agrees with JSON.parse about what is valid', () => {
    const samples = [
      '0',
      '-0.5e+10',
      '1.',
      '.5',
      '-',
      '"\\u00e9"',
      '"\\u00g9"',
      '{"a":{"b":[true,false,null]}}',
      '[[]]',
      '[,]',
      '{"a":1,"a":2}',
      'tru',
      'nul',
      '  \n\t{ } \r\n',
      '"\\/"',
      '1e5',
      '1E-2',
      '2e',
      '[1 2]',
    ];
    for (const text of samples) {
      let valid = true;
      try {
        JSON.parse(text);
      } catch {
        valid = false;
      }
      expect(findJsonProblem(text) === null, text).toBe(valid);
    }
  });
});

describe('lineAndColumn', () => {
  it('is 1-based', () => {
    expect(lineAndColumn('abc', 0)).toEqual({ line: 1, column: 1 });
    expect(lineAndColumn('ab\ncd', 3)).toEqual({ line: 2, column: 1 });
    expect(lineAndColumn('ab\ncd', 4)).toEqual({ line: 2, column: 2 });
  });
});
