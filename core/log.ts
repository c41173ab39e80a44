// Structured logs with pino: one JSON object per line on stdout, e.g.
//   {"level":"info","time":"2025-01-01T12:00:00.000Z","pid":1,"hostname":"h","process":"worker","msg":"worker ready",...}
// Fields carry ids (eventId, subscriptionId); secret-bearing keys are redacted all the same,
// but never put a secret or a token into a message string: redaction only sees fields.
import { hostname } from 'node:os';
import { pino, type DestinationStream, type Logger as PinoLogger } from 'pino';

type Level = 'debug' | 'info' | 'warn' | 'error';
type Fields = Record<string, unknown>;

export interface Logger {
  debug(message: string, fields?: Fields): void;
  info(message: string, fields?: Fields): void;
  warn(message: string, fields?: Fields): void;
  error(message: string, fields?: Fields): void;
  /** A logger adding `bindings` (e.g. `{ eventId, subscriptionId }`) to every line. */
  child(bindings: Fields): Logger;
}

export const REDACTED = '[redacted]';

/** Keys that can carry a secret, a token or a password, at the top level and one level down. */
const SECRET_KEYS = ['secret', 'previousSecret', 'token', 'apiToken', 'apiTokens', 'authorization', 'cookie', 'password', 'databaseUrl', 'redisUrl'];
const SECRET_HEADERS = ['authorization', 'cookie', '"webhook-signature"', '"x-api-key"'];
export const REDACT_PATHS: string[] = [
  ...SECRET_KEYS,
  ...SECRET_KEYS.map((key) => `*.${key}`),
  ...['headers', 'requestHeaders'].flatMap((parent) =>
    SECRET_HEADERS.flatMap((header) => {
      const path = header.startsWith('"') ? `${parent}[${header}]` : `${parent}.${header}`;
      return [path, `*.${path}`];
    }),
  ),
];

/** An error logged in a field shows as its message (not a stack), so `error` stays a string. */
const asMessage = (value: unknown) => (value instanceof Error ? value.message : value);

function wrap(logger: PinoLogger): Logger {
  const write = (level: Level) => (message: string, fields?: Fields) => {
    if (fields === undefined) logger[level](message);
    else logger[level](fields, message);
  };
  return {
    debug: write('debug'),
    info: write('info'),
    warn: write('warn'),
    error: write('error'),
    child: (bindings) => wrap(logger.child(bindings)),
  };
}

/**
 * `destination` defaults to pino's synchronous stdout (no worker threads, nothing lost on exit);
 * tests pass a stream to read the lines back.
 */
export function createLogger(process_: string, minLevel: Level = 'info', destination?: DestinationStream): Logger {
  const options: pino.LoggerOptions = {
    level: minLevel,
    base: { pid: process.pid, hostname: hostname(), process: process_ },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    serializers: { error: asMessage, err: asMessage, reason: asMessage },
    redact: { paths: REDACT_PATHS, censor: REDACTED },
  };
  return wrap(destination ? pino(options, destination) : pino(options));
}
