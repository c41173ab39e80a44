import { describe, expect, it } from 'vitest';
import { REDACTED, createLogger } from '../../core/log.ts';

/** A logger writing into an array; `lines()` parses what it wrote. */
function captured(minLevel: 'debug' | 'info' | 'warn' | 'error' = 'info') {
  const chunks: string[] = [];
  const log = createLogger('worker', minLevel, { write: (chunk: string) => void chunks.push(chunk) });
  const text = () => chunks.join('');
  const lines = () =>
    text()
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as Record<string, any>);
  return { log, text, lines };
}

const SECRET = 'whsec_c2VjcmV0LXRoYXQtbXVzdC1uZXZlci1hcHBlYXI=';
const TOKEN = 'api-token-that-must-never-appear';

describe('createLogger', () => {
  it('writes one JSON object per line: level label, ISO time, process, msg and the fields', () => {
    const { log, text, lines } = captured();
    log.info('worker ready', { concurrency: 50, queuePrefix: 'hookd' });
    log.warn('subscription disabled', { subscriptionId: 'sub-1' });
    expect(text().endsWith('\n')).toBe(true);
    const [ready, disabled] = lines();
    expect(ready).toMatchObject({ level: 'info', process: 'worker', msg: 'worker ready', concurrency: 50, queuePrefix: 'hookd' });
    expect(ready!.pid).toBe(process.pid);
    expect(new Date(ready!.time).toISOString()).toBe(ready!.time);
    expect(disabled).toMatchObject({ level: 'warn', msg: 'subscription disabled', subscriptionId: 'sub-1' });
  });

  it('drops lines below the minimum level', () => {
    const { log, lines } = captured('warn');
    log.debug('debug line');
    log.info('info line');
    log.warn('warn line');
    log.error('error line');
    expect(lines().map((line) => [line.level, line.msg])).toEqual([
      ['warn', 'warn line'],
      ['error', 'error line'],
    ]);

    const verbose = captured('debug');
    verbose.log.debug('debug line');
    expect(verbose.lines()).toMatchObject([{ level: 'debug', msg: 'debug line' }]);
  });

  it('censors secrets, tokens and authorization headers, top level and nested', () => {
    const { log, text, lines } = captured();
    log.info('rotated', {
      subscriptionId: 'sub-1',
      secret: SECRET,
      previousSecret: SECRET,
      token: TOKEN,
      subscription: { id: 'sub-1', secret: SECRET },
      headers: { authorization: `Bearer ${TOKEN}`, accept: 'application/json' },
      request: { headers: { authorization: `Bearer ${TOKEN}` } },
      requestHeaders: { 'webhook-signature': 'v1,c2lnbmF0dXJl', 'webhook-id': 'msg_1' },
      config: { apiTokens: [TOKEN], databaseUrl: `postgresql://hookd:${TOKEN}@db/hookd` },
    });
    const [line] = lines();
    expect(line).toMatchObject({
      subscriptionId: 'sub-1',
      secret: REDACTED,
      previousSecret: REDACTED,
      token: REDACTED,
      subscription: { id: 'sub-1', secret: REDACTED },
      headers: { authorization: REDACTED, accept: 'application/json' },
      request: { headers: { authorization: REDACTED } },
      requestHeaders: { 'webhook-signature': REDACTED, 'webhook-id': 'msg_1' },
      config: { apiTokens: REDACTED, databaseUrl: REDACTED },
    });
    expect(text()).not.toContain(SECRET);
    expect(text()).not.toContain(TOKEN);
    expect(text()).not.toContain('c2lnbmF0dXJl');
  });

  it('renders an Error field as its message', () => {
    const { log, lines } = captured();
    log.error('delivery job failed', { eventId: 'evt-1', error: new Error('connect ECONNREFUSED') });
    expect(lines()[0]).toMatchObject({ eventId: 'evt-1', error: 'connect ECONNREFUSED' });
  });

  it('adds child bindings to every line of the child, and still censors them', () => {
    const { log, text, lines } = captured();
    const child = log.child({ eventId: 'evt-1', subscriptionId: 'sub-1', token: TOKEN });
    child.info('attempt', { attempt: 2 });
    child.child({ attempt: 3 }).warn('retrying');
    log.info('parent');
    const [attempt, retrying, parent] = lines();
    expect(attempt).toMatchObject({ process: 'worker', eventId: 'evt-1', subscriptionId: 'sub-1', token: REDACTED, attempt: 2, msg: 'attempt' });
    expect(retrying).toMatchObject({ eventId: 'evt-1', attempt: 3, level: 'warn', msg: 'retrying' });
    expect(parent!.eventId).toBeUndefined();
    expect(text()).not.toContain(TOKEN);
  });
});
