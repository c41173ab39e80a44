import { describe, expect, it } from 'vitest';
import { MAX_PREPARED_PARAMETERS, createStatementNamer } from '../../core/db.ts';

describe('createStatementNamer', () => {
  it('gives a text the same name every time, and different texts different names', () => {
    const name = createStatementNamer();
    const first = name({ sql: 'SELECT $1::int', args: [1] });
    expect(first).toMatch(/^hookd_[0-9a-f]{32}$/);
    expect(name({ sql: 'SELECT $1::int', args: [2] })).toBe(first);
    expect(name({ sql: 'SELECT $1::int + 1', args: [1] })).not.toBe(first);
    // Another process (a new namer) names the same text alike.
    expect(createStatementNamer()({ sql: 'SELECT $1::int', args: [1] })).toBe(first);
  });

  it('leaves statements without parameters unnamed (simple queries, possibly several commands)', () => {
    expect(createStatementNamer()({ sql: 'SELECT 1; SELECT 2', args: [] })).toBeUndefined();
  });

  it('leaves statements whose parameters grow with their input unnamed', () => {
    const args = Array.from({ length: MAX_PREPARED_PARAMETERS + 1 }, (_, i) => i);
    const sql = `SELECT * FROM t WHERE id IN (${args.map((_, i) => `$${i + 1}`).join(',')})`;
    expect(createStatementNamer()({ sql, args })).toBeUndefined();
    expect(createStatementNamer()({ sql, args: args.slice(1) })).toBeDefined();
  });

  it('names at most the first N texts, and keeps naming those', () => {
    const name = createStatementNamer(2);
    const a = name({ sql: 'SELECT $1', args: [1] });
    const b = name({ sql: 'SELECT $1, 2', args: [1] });
    expect(a).toBeDefined();
    expect(b).toBeDefined();
    expect(name({ sql: 'SELECT $1, 3', args: [1] })).toBeUndefined();
    expect(name({ sql: 'SELECT $1', args: [1] })).toBe(a);
  });
});
