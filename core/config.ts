// The only reader of process.env: parsed once, with zod, into a typed Config.
import { isIP } from 'node:net';
import { z } from 'zod';
import { parseDuration, parseSchedule } from './schedule.ts';

const duration = z.string().transform((text, ctx) => {
  try {
    return parseDuration(text);
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: (error as Error).message });
    return z.NEVER;
  }
});

const positiveInt = (max: number) =>
  z
    .string()
    .regex(/^\d+$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().int().min(1).max(max));

const boolean = z
  .string()
  .transform((text) => text.trim().toLowerCase())
  .pipe(z.enum(['true', 'false', '1', '0', 'yes', 'no']))
  .transform((text) => text === 'true' || text === '1' || text === 'yes');

const url = (protocols: string[]) =>
  z.string().refine((text) => {
    try {
      return protocols.includes(new URL(text).protocol);
    } catch {
      return false;
    }
  }, `must be a ${protocols.join(' or ')} URL`);

/** `a.b.c.d/n` or an IPv6 address with `/n`. */
function isCidr(text: string): boolean {
  const [address, bits, ...rest] = text.split('/');
  if (rest.length > 0 || address === undefined || bits === undefined || !/^\d{1,3}$/.test(bits)) return false;
  const kind = isIP(address);
  return kind !== 0 && Number(bits) <= (kind === 4 ? 32 : 128);
}

const envSchema = z.object({
  DATABASE_URL: url(['postgresql:', 'postgres:']).default('postgresql://postgres@127.0.0.1:5432/hookd'),
  REDIS_URL: url(['redis:', 'rediss:']).default('redis://127.0.0.1:6379'),
  PORT: z.string().regex(/^\d+$/, 'must be a port number').transform(Number).pipe(z.number().int().min(0).max(65535)).default(4000),
  HOST: z.string().min(1).default('0.0.0.0'),
  WORKER_PORT: z.string().regex(/^\d+$/, 'must be a port number').transform(Number).pipe(z.number().int().min(0).max(65535)).default(9464),
  QUEUE_PREFIX: z.string().regex(/^[A-Za-z0-9_.:-]{1,64}$/, 'must be 1-64 letters, digits, "_", ".", ":" or "-"').default('hookd'),
  API_TOKENS: z
    .string()
    .optional()
    .transform((text) => (text ?? '').split(',').map((token) => token.trim()).filter((token) => token !== ''))
    .refine((tokens) => tokens.every((token) => token.length >= 16), 'every token must be at least 16 characters'),
  RETRY_SCHEDULE: z
    .string()
    .default('10s,30s,1m,5m,15m')
    .transform((text, ctx) => {
      try {
        return parseSchedule(text);
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: (error as Error).message });
        return z.NEVER;
      }
    }),
  MAX_ATTEMPTS: positiveInt(100).default(5),
  DELIVERY_TIMEOUT: duration.default(10_000).pipe(z.number().min(1).max(300_000)),
  WORKER_CONCURRENCY: positiveInt(10_000).default(50),
  ATTEMPT_RETENTION: duration.default(72 * 3_600_000).pipe(z.number().min(1_000)),
  MAX_PAYLOAD_BYTES: positiveInt(64 * 1024 * 1024).default(1_048_576),
  ALLOW_PRIVATE_TARGETS: boolean.default(false),
  ALLOWED_TARGET_NETWORKS: z
    .string()
    .optional()
    .transform((text) => (text ?? '').split(',').map((cidr) => cidr.trim()).filter((cidr) => cidr !== ''))
    .refine((cidrs) => cidrs.every(isCidr), 'must be comma-separated CIDRs, e.g. 10.1.0.0/16,fd00:1::/64'),
  SECRET_ROTATION_GRACE: duration.default(24 * 3_600_000),
  AUTO_DISABLE_AFTER: duration.default(5 * 86_400_000).pipe(z.number().min(1_000)),
  EVENT_RETENTION: duration.default(30 * 86_400_000).pipe(z.number().min(1_000)),
  GRAPHQL_INTROSPECTION: boolean.default(true),
  SWEEP_INTERVAL: duration.default(15_000).pipe(z.number().min(100)),
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
});

export type Config = {
  databaseUrl: string;
  redisUrl: string;
  port: number;
  host: string;
  /** The worker's HTTP port for /metrics and /health (0: any free port). */
  workerPort: number;
  queuePrefix: string;
  apiTokens: string[];
  retrySchedule: number[];
  maxAttempts: number;
  deliveryTimeoutMs: number;
  workerConcurrency: number;
  attemptRetentionMs: number;
  maxPayloadBytes: number;
  allowPrivateTargets: boolean;
  /** CIDRs that targets may reach even when private targets are not allowed. */
  allowedTargetNetworks: string[];
  secretRotationGraceMs: number;
  autoDisableAfterMs: number;
  eventRetentionMs: number;
  graphqlIntrospection: boolean;
  sweepIntervalMs: number;
  logLevel: 'debug' | 'info' | 'warn' | 'error';
};

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
  }
}

/** Parses the environment; every problem is reported at once, each naming its variable. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  // An empty variable means "not set", as in most deployment tools.
  const present = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value !== ''));
  const parsed = envSchema.safeParse(present);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`));
  }
  const e = parsed.data;
  return {
    databaseUrl: e.DATABASE_URL,
    redisUrl: e.REDIS_URL,
    port: e.PORT,
    host: e.HOST,
    workerPort: e.WORKER_PORT,
    queuePrefix: e.QUEUE_PREFIX,
    apiTokens: e.API_TOKENS,
    retrySchedule: e.RETRY_SCHEDULE,
    maxAttempts: e.MAX_ATTEMPTS,
    deliveryTimeoutMs: e.DELIVERY_TIMEOUT,
    workerConcurrency: e.WORKER_CONCURRENCY,
    attemptRetentionMs: e.ATTEMPT_RETENTION,
    maxPayloadBytes: e.MAX_PAYLOAD_BYTES,
    allowPrivateTargets: e.ALLOW_PRIVATE_TARGETS,
    allowedTargetNetworks: e.ALLOWED_TARGET_NETWORKS,
    secretRotationGraceMs: e.SECRET_ROTATION_GRACE,
    autoDisableAfterMs: e.AUTO_DISABLE_AFTER,
    eventRetentionMs: e.EVENT_RETENTION,
    graphqlIntrospection: e.GRAPHQL_INTROSPECTION,
    sweepIntervalMs: e.SWEEP_INTERVAL,
    logLevel: e.LOG_LEVEL,
  };
}

/** For process entry points: a bad value stops start-up with a message naming it. */
export function loadConfigOrExit(): Config {
  try {
    return loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`hookd: ${error.message}`);
      process.exit(1);
    }
    throw error;
  }
}
