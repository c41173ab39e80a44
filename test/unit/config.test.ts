import { afterEach, describe, expect, it, vi } from 'vitest';
import { ConfigError, loadConfig, type Config } from '../../core/config.ts';

const DEFAULTS: Config = {
  databaseUrl: 'postgresql://postgres@127.0.0.1:5432/hookd',
  redisUrl: 'redis://127.0.0.1:6379',
  port: 4000,
  host: '0.0.0.0',
  workerPort: 9464,
  queuePrefix: 'hookd',
  apiTokens: [],
  retrySchedule: [10_000, 30_000, 60_000, 300_000, 900_000],
  maxAttempts: 5,
  deliveryTimeoutMs: 10_000,
  workerConcurrency: 50,
  attemptRetentionMs: 72 * 60 * 60 * 1000,
  maxPayloadBytes: 1_048_576,
  allowPrivateTargets: false,
  allowedTargetNetworks: [],
  secretRotationGraceMs: 24 * 60 * 60 * 1000,
  autoDisableAfterMs: 5 * 24 * 60 * 60 * 1000,
  eventRetentionMs: 30 * 24 * 60 * 60 * 1000,
  graphqlIntrospection: true,
  sweepIntervalMs: 15_000,
  logLevel: 'info',
};

const VARIABLES = [
  'DATABASE_URL',
  'REDIS_URL',
  'PORT',
  'HOST',
  'QUEUE_PREFIX',
  'API_TOKENS',
  'RETRY_SCHEDULE',
  'MAX_ATTEMPTS',
  'DELIVERY_TIMEOUT',
  'WORKER_CONCURRENCY',
  'ATTEMPT_RETENTION',
  'MAX_PAYLOAD_BYTES',
  'ALLOW_PRIVATE_TARGETS',
  'SWEEP_INTERVAL',
  'LOG_LEVEL',
] as const;

const TOKEN_A = 'a'.repeat(16);
const TOKEN_B = 'token-b-0123456789abcdef';

/** The ConfigError thrown for `env`; fails the test if none is thrown. */
function problemsOf(env: Record<string, string | undefined>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  expect.fail(`loadConfig accepted ${JSON.stringify(env)}`);
}

/** Expects exactly one problem, about `variable`. */
function expectOnlyProblemWith(env: Record<string, string | undefined>, variable: string): string {
  const problems = problemsOf(env);
  expect(problems).toHaveLength(1);
  expect(problems[0]).toMatch(new RegExp(`^${variable}: `));
  return problems[0]!;
}

describe('loadConfig defaults', () => {
  it('gives every default for an empty environment', () => {
    expect(loadConfig({})).toEqual(DEFAULTS);
  });

  it('treats an empty string as unset, for every variable', () => {
    const empty = Object.fromEntries(VARIABLES.map((name) => [name, '']));
    expect(loadConfig(empty)).toEqual(DEFAULTS);
  });

  it('treats undefined as unset', () => {
    const unset = Object.fromEntries(VARIABLES.map((name) => [name, undefined]));
    expect(loadConfig(unset)).toEqual(DEFAULTS);
  });

  it('ignores unrelated variables', () => {
    expect(loadConfig({ HOME: '/root', PATH: '/usr/bin', NODE_ENV: 'test', port: 'abc' })).toEqual(DEFAULTS);
  });

  it('returns fresh arrays, so one config cannot change another', () => {
    const first = loadConfig({});
    first.retrySchedule.push(1);
    first.apiTokens.push('x');
    expect(loadConfig({})).toEqual(DEFAULTS);
  });

  describe('without an argument', () => {
    afterEach(() => {
      vi.unstubAllEnvs();
    });

    it('reads process.env', () => {
      vi.stubEnv('PORT', '4321');
      vi.stubEnv('RETRY_SCHEDULE', '1s,2s');
      const config = loadConfig();
      expect(config.port).toBe(4321);
      expect(config.retrySchedule).toEqual([1_000, 2_000]);
    });
  });
});

describe('loadConfig parsing', () => {
  describe('DATABASE_URL', () => {
    it.each(['postgresql://user:pw@db.example:5433/app', 'postgres://db/app'])('accepts %j', (url) => {
      expect(loadConfig({ DATABASE_URL: url }).databaseUrl).toBe(url);
    });

    it.each(['mysql://db/app', 'db.example:5432', 'not a url', 'redis://127.0.0.1:6379'])('rejects %j', (url) => {
      expect(expectOnlyProblemWith({ DATABASE_URL: url }, 'DATABASE_URL')).toMatch(/postgresql: or postgres: URL/);
    });
  });

  describe('REDIS_URL', () => {
    it.each(['redis://cache:6380/2', 'rediss://user:pw@cache.example:6380'])('accepts %j', (url) => {
      expect(loadConfig({ REDIS_URL: url }).redisUrl).toBe(url);
    });

    it.each(['http://cache:6379', 'cache:6379', 'postgresql://db/app'])('rejects %j', (url) => {
      expect(expectOnlyProblemWith({ REDIS_URL: url }, 'REDIS_URL')).toMatch(/redis: or rediss: URL/);
    });
  });

  describe('PORT', () => {
    it.each([
      ['0', 0],
      ['80', 80],
      ['8080', 8080],
      ['65535', 65535],
    ])('parses %j', (text, port) => {
      expect(loadConfig({ PORT: text }).port).toBe(port);
    });

    it.each(['abc', '-1', '80.5', '65536', '99999', ' 80', '0x50'])('rejects %j', (text) => {
      expectOnlyProblemWith({ PORT: text }, 'PORT');
    });
  });

  describe('HOST', () => {
    it('is taken as given', () => {
      expect(loadConfig({ HOST: '127.0.0.1' }).host).toBe('127.0.0.1');
    });
  });

  describe('QUEUE_PREFIX', () => {
    it.each(['hookd-staging', 'a', 'app:v2_q.1', 'x'.repeat(64)])('accepts %j', (prefix) => {
      expect(loadConfig({ QUEUE_PREFIX: prefix }).queuePrefix).toBe(prefix);
    });

    it.each(['has space', 'a/b', 'x'.repeat(65), '{braces}'])('rejects %j', (prefix) => {
      expectOnlyProblemWith({ QUEUE_PREFIX: prefix }, 'QUEUE_PREFIX');
    });
  });

  describe('API_TOKENS', () => {
    it('reads one token', () => {
      expect(loadConfig({ API_TOKENS: TOKEN_A }).apiTokens).toEqual([TOKEN_A]);
    });

    it('reads a comma-separated list, trimming and dropping empty entries', () => {
      expect(loadConfig({ API_TOKENS: ` ${TOKEN_A} ,, ${TOKEN_B},` }).apiTokens).toEqual([TOKEN_A, TOKEN_B]);
    });

    it('gives no tokens for only commas and spaces', () => {
      expect(loadConfig({ API_TOKENS: ' , ,' }).apiTokens).toEqual([]);
    });

    it('rejects a token shorter than 16 characters', () => {
      const problem = expectOnlyProblemWith({ API_TOKENS: `${TOKEN_A},${'b'.repeat(15)}` }, 'API_TOKENS');
      expect(problem).toMatch(/at least 16 characters/);
    });

    it('does not echo a token in the problem', () => {
      const short = 'shortsecret';
      expect(expectOnlyProblemWith({ API_TOKENS: short }, 'API_TOKENS')).not.toContain(short);
    });
  });

  describe('RETRY_SCHEDULE', () => {
    it('parses a list of durations', () => {
      expect(loadConfig({ RETRY_SCHEDULE: '500ms, 2s,1m ,1h' }).retrySchedule).toEqual([500, 2_000, 60_000, 3_600_000]);
    });

    it('parses a single delay', () => {
      expect(loadConfig({ RETRY_SCHEDULE: '30s' }).retrySchedule).toEqual([30_000]);
    });

    it('rejects a bad entry, quoting it', () => {
      expect(expectOnlyProblemWith({ RETRY_SCHEDULE: '10s,1q' }, 'RETRY_SCHEDULE')).toContain('"1q"');
    });

    it('rejects a schedule of only commas', () => {
      expect(expectOnlyProblemWith({ RETRY_SCHEDULE: ',,' }, 'RETRY_SCHEDULE')).toMatch(/empty/);
    });
  });

  describe.each([
    ['MAX_ATTEMPTS', 'maxAttempts', 100],
    ['WORKER_CONCURRENCY', 'workerConcurrency', 10_000],
    ['MAX_PAYLOAD_BYTES', 'maxPayloadBytes', 64 * 1024 * 1024],
  ] as const)('%s (a whole number from 1)', (variable, key, max) => {
    it.each(['1', '7', String(max)])('parses %j', (text) => {
      expect(loadConfig({ [variable]: text })[key]).toBe(Number(text));
    });

    it.each(['0', String(max + 1), '-3', '2.5', 'ten', '1e3'])('rejects %j', (text) => {
      expectOnlyProblemWith({ [variable]: text }, variable);
    });
  });

  describe('DELIVERY_TIMEOUT', () => {
    it.each([
      ['30s', 30_000],
      ['1500ms', 1_500],
      ['2500', 2_500],
      ['1ms', 1],
      ['5m', 300_000],
    ])('parses %j', (text, ms) => {
      expect(loadConfig({ DELIVERY_TIMEOUT: text }).deliveryTimeoutMs).toBe(ms);
    });

    it.each(['0s', '0', '5m1ms', '6m', '1h', 'fast', '-1s'])('rejects %j', (text) => {
      expectOnlyProblemWith({ DELIVERY_TIMEOUT: text }, 'DELIVERY_TIMEOUT');
    });
  });

  describe('ATTEMPT_RETENTION', () => {
    it.each([
      ['24h', 86_400_000],
      ['30m', 1_800_000],
      ['1s', 1_000],
    ])('parses %j', (text, ms) => {
      expect(loadConfig({ ATTEMPT_RETENTION: text }).attemptRetentionMs).toBe(ms);
    });

    it.each(['999ms', '0', '3w', 'forever'])('rejects %j', (text) => {
      expectOnlyProblemWith({ ATTEMPT_RETENTION: text }, 'ATTEMPT_RETENTION');
    });
  });

  describe('SWEEP_INTERVAL', () => {
    it('parses a duration', () => {
      expect(loadConfig({ SWEEP_INTERVAL: '100ms' }).sweepIntervalMs).toBe(100);
    });

    it('enforces its minimum', () => {
      expectOnlyProblemWith({ SWEEP_INTERVAL: '99ms' }, 'SWEEP_INTERVAL');
    });
  });

  describe('ALLOW_PRIVATE_TARGETS', () => {
    it.each(['true', 'TRUE', 'True', '1', 'yes', 'YES', ' true '])('reads %j as true', (text) => {
      expect(loadConfig({ ALLOW_PRIVATE_TARGETS: text }).allowPrivateTargets).toBe(true);
    });

    it.each(['false', 'FALSE', '0', 'no', 'No'])('reads %j as false', (text) => {
      expect(loadConfig({ ALLOW_PRIVATE_TARGETS: text }).allowPrivateTargets).toBe(false);
    });

    it.each(['maybe', 'on', 'off', '2', 'y'])('rejects %j', (text) => {
      expectOnlyProblemWith({ ALLOW_PRIVATE_TARGETS: text }, 'ALLOW_PRIVATE_TARGETS');
    });
  });

  describe('LOG_LEVEL', () => {
    it.each(['debug', 'info', 'warn', 'error'] as const)('accepts %j', (level) => {
      expect(loadConfig({ LOG_LEVEL: level }).logLevel).toBe(level);
    });

    it.each(['verbose', 'INFO', 'trace'])('rejects %j', (level) => {
      expectOnlyProblemWith({ LOG_LEVEL: level }, 'LOG_LEVEL');
    });
  });

  it('reads a complete environment', () => {
    const config = loadConfig({
      DATABASE_URL: 'postgres://u@db:5432/x',
      REDIS_URL: 'rediss://cache:6380',
      PORT: '8080',
      HOST: '::',
      QUEUE_PREFIX: 'q1',
      API_TOKENS: `${TOKEN_A},${TOKEN_B}`,
      RETRY_SCHEDULE: '1s,2s',
      MAX_ATTEMPTS: '3',
      DELIVERY_TIMEOUT: '2s',
      WORKER_CONCURRENCY: '4',
      ATTEMPT_RETENTION: '1h',
      MAX_PAYLOAD_BYTES: '2048',
      ALLOW_PRIVATE_TARGETS: 'yes',
      SWEEP_INTERVAL: '1s',
      LOG_LEVEL: 'debug',
      ALLOWED_TARGET_NETWORKS: '10.1.0.0/16, fd00::/8',
      SECRET_ROTATION_GRACE: '1h',
      AUTO_DISABLE_AFTER: '2d',
      EVENT_RETENTION: '7d',
      GRAPHQL_INTROSPECTION: 'false',
      WORKER_PORT: '0',
    });
    expect(config).toEqual({
      databaseUrl: 'postgres://u@db:5432/x',
      redisUrl: 'rediss://cache:6380',
      port: 8080,
      host: '::',
      workerPort: 0,
      queuePrefix: 'q1',
      apiTokens: [TOKEN_A, TOKEN_B],
      retrySchedule: [1_000, 2_000],
      maxAttempts: 3,
      deliveryTimeoutMs: 2_000,
      workerConcurrency: 4,
      attemptRetentionMs: 3_600_000,
      maxPayloadBytes: 2048,
      allowPrivateTargets: true,
      allowedTargetNetworks: ['10.1.0.0/16', 'fd00::/8'],
      secretRotationGraceMs: 3_600_000,
      autoDisableAfterMs: 2 * 86_400_000,
      eventRetentionMs: 7 * 86_400_000,
      graphqlIntrospection: false,
      sweepIntervalMs: 1_000,
      logLevel: 'debug',
    } satisfies Config);
  });
});

describe('ALLOWED_TARGET_NETWORKS', () => {
  it.each(['10.0.0.0', '10.0.0.0/33', 'fd00::/129', 'example.com/8', '10.0.0.0/8/1'])('rejects %j', (text) => {
    expect(problemsOf({ ALLOWED_TARGET_NETWORKS: text })[0]).toMatch(/^ALLOWED_TARGET_NETWORKS: /);
  });
});

describe('ConfigError', () => {
  it('names both PORT and RETRY_SCHEDULE when both are bad', () => {
    const problems = problemsOf({ PORT: 'abc', RETRY_SCHEDULE: '1q' });
    expect(problems).toHaveLength(2);
    expect(problems.some((problem) => problem.startsWith('PORT: '))).toBe(true);
    expect(problems.some((problem) => problem.startsWith('RETRY_SCHEDULE: '))).toBe(true);
  });

  it('reports every bad variable at once, each problem starting with its name', () => {
    const bad = {
      DATABASE_URL: 'mysql://db',
      REDIS_URL: 'http://cache',
      PORT: 'abc',
      QUEUE_PREFIX: 'has space',
      API_TOKENS: 'short',
      RETRY_SCHEDULE: '1q',
      MAX_ATTEMPTS: '0',
      DELIVERY_TIMEOUT: '1h',
      WORKER_CONCURRENCY: 'many',
      ATTEMPT_RETENTION: '1ms',
      MAX_PAYLOAD_BYTES: '-1',
      ALLOW_PRIVATE_TARGETS: 'maybe',
      SWEEP_INTERVAL: 'x',
      LOG_LEVEL: 'loud',
    };
    const problems = problemsOf({ ...bad, HOST: 'fine.example' });
    const named = problems.map((problem) => problem.slice(0, problem.indexOf(': ')));
    expect(named.sort()).toEqual(Object.keys(bad).sort());
  });

  it('is an Error whose message lists every problem', () => {
    let caught: unknown;
    try {
      loadConfig({ PORT: 'abc', MAX_ATTEMPTS: '0' });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(Error);
    expect(caught).toBeInstanceOf(ConfigError);
    const error = caught as ConfigError;
    expect(error.message).toMatch(/^invalid configuration:\n/);
    expect(error.problems).toHaveLength(2);
    for (const problem of error.problems) expect(error.message).toContain(`  - ${problem}`);
  });

  it('does not report good variables beside bad ones', () => {
    const problems = problemsOf({ PORT: '8080', MAX_ATTEMPTS: '0', RETRY_SCHEDULE: '1s', LOG_LEVEL: 'warn' });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^MAX_ATTEMPTS: /);
  });
});
