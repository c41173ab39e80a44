// Property-based fuzzing of every mutation and every REST route of the running server: random
// and hostile values (wrong types, huge strings, deep JSON, control characters, lone surrogates,
// odd URLs, invalid UTF-8) must each get a clean answer — 2xx or 4xx, GraphQL errors that are
// not the masked "Unexpected error." — and the server must stay up.
//
// Every failing request of a property is collected (not only the first), and the shortest are
// reported with the seed: FUZZ_SEED=<seed> npx vitest run test/integration/fuzz.test.ts repeats
// a run.
//
// Nothing here may cause traffic beyond loopback: every target URL generated is either refused
// by the server (unparseable, not http(s), over 2048 characters) or names 127.0.0.1 / [::1].
// Subscriptions that are created are deleted at once; those the fuzzing writes to are PAUSED
// or DISABLED, so their events are never sent. publishEvent fans out only for a small fixed set
// of (event type, idempotency key) pairs, so it adds a bounded number of events to other files'
// catch-all subscriptions.
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gqlData, graphql, rest, stack } from '../helpers/api.ts';

const SEED = Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31);
const RUNS = 120;
const TIMEOUT_MS = 60_000;
/** An event type nothing publishes: subscriptions that must never be sent anything filter on it. */
const NEVER = `fuzz.never.${randomUUID().slice(0, 8)}`;

// ---------------------------------------------------------------------------------------------
// Values

/** A JSON text that JSON.stringify would choke on (too deep for its recursion): sent as is. */
class RawJson {
  constructor(
    readonly text: string,
    readonly label: string,
  ) {}
}

function nested(depth: number, open: '[' | '{"a":' = '['): RawJson {
  const close = open === '[' ? ']' : '}';
  return new RawJson(open.repeat(depth) + '1' + close.repeat(depth), `<JSON nested ${depth} deep with ${open}>`);
}

const deepJson = fc.tuple(fc.integer({ min: 100, max: 30_000 }), fc.constantFrom('[' as const, '{"a":' as const)).map(([depth, open]) => nested(depth, open));

const SPECIAL_STRINGS = [
  '',
  ' ',
  '\u0000',
  'a\u0000b',
  '\u0001\u0002\u001f\u007f',
  '\ud800',
  '\udfff',
  'x\udc00y',
  '\ud83d\ude00',
  '\ufeff',
  '\u202e',
  '\r\n',
  '\t',
  '%00',
  '%',
  '\\',
  '"',
  "'; DROP TABLE \"Event\"; --",
  '{{7*7}}',
  '${7*7}',
  '../../etc/passwd',
  '<script>alert(1)</script>',
  'order.*',
  '*',
  '.',
  'a..b',
  'whsec_',
  'whsec_' + Buffer.alloc(32, 1).toString('base64'),
  'x'.repeat(201),
  'x'.repeat(257),
  'x'.repeat(2049),
  'y'.repeat(10_000),
  'z'.repeat(70_000),
];

/** Strings a client might send on purpose or by accident. */
const hostileString: fc.Arbitrary<string> = fc.oneof(
  { arbitrary: fc.constantFrom(...SPECIAL_STRINGS), weight: 4 },
  { arbitrary: fc.string(), weight: 2 },
  { arbitrary: fc.string({ unit: 'binary' }), weight: 2 },
  { arbitrary: fc.string({ unit: 'binary-ascii' }), weight: 2 },
  {
    arbitrary: fc.string({ unit: fc.constantFrom('\u0000', '\u0007', '\u001b', '\ud800', '\udbff', '\udc00', '\uffff', 'é', 'a', '.', '*', ' ', '%', '"', '\\') }),
    weight: 2,
  },
  { arbitrary: fc.string({ unit: 'grapheme' }), weight: 1 },
);

/** Anything a JSON variable can hold, some of it deep or odd. */
const jsonish: fc.Arbitrary<unknown> = fc.oneof(
  { arbitrary: fc.jsonValue({ maxDepth: 4, stringUnit: 'binary' }), weight: 4 },
  { arbitrary: fc.jsonValue({ maxDepth: 60, depthSize: 'large' }), weight: 1 },
  { arbitrary: hostileString, weight: 2 },
  { arbitrary: deepJson, weight: 1 },
  { arbitrary: fc.constantFrom(null, 0, -1, 1e308, -0, true, [], {}, [[[]]], { '': '' }, JSON.parse('{"__proto__":{"polluted":1}}')), weight: 1 },
);

/** Values of the wrong type for any variable. */
const wrongType: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(null, 0, -1, 3.5, 2 ** 53, true, false, [], {}, [null], ['a', 1], { a: 1 }),
  fc.integer(),
  fc.double(),
  fc.array(fc.string(), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 5 }), fc.string({ maxLength: 5 }), { maxKeys: 3 }),
  deepJson,
);

const LOOPBACK_HOST = /^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|\[::1\])$/;

/**
 * True when the server cannot deliver to `url` anywhere but loopback: it refuses it (longer than
 * 2048 characters, unparseable, not http/https) or it names a loopback address.
 */
function cannotLeaveLoopback(url: string): boolean {
  if (url.length > 2048) return true;
  try {
    const parsed = new URL(url);
    return !['http:', 'https:'].includes(parsed.protocol) || LOOPBACK_HOST.test(parsed.hostname);
  } catch {
    return true;
  }
}

/** Loopback (port 9, where nothing listens) or refused; never another host. */
function isLoopbackOrUnparseable(url: string): boolean {
  try {
    const parsed = new URL(url);
    return !['http:', 'https:'].includes(parsed.protocol) || LOOPBACK_HOST.test(parsed.hostname);
  } catch {
    return true;
  }
}

const targetUrl: fc.Arbitrary<string> = fc
  .oneof(
    fc.constantFrom(
      'http://[::1',
      'http://[::1]:9/fuzz',
      'javascript:alert(1)',
      'http://a b',
      'http://a b/c',
      `http://${'a'.repeat(10_000)}.invalid/`,
      `https://${'b'.repeat(10_000)}`,
      'http://',
      'http:///x',
      'http://:9/x',
      '//127.0.0.1:9/x',
      '/relative',
      'ftp://127.0.0.1:9/x',
      'file:///etc/passwd',
      'data:text/plain,hi',
      'mailto:a@127.0.0.1',
      'http://127.0.0.1:99999/x',
      'http://127.0.0.1:-1/x',
      'http://127.0.0.1:9/\u0000',
      'http://127.0.0.1:9/\ud800',
      'http://127.0.0.1:9/a b',
      'http://127.0.0.1:9/%zz',
      'http://127.0.0.1:9/' + 'p'.repeat(2100),
      'http://\u0000/',
      'http://%00/',
      'http://[::1]:9/\r\nX-Injected: 1',
      'HTTP://127.0.0.1:9/UPPER',
      ' http://127.0.0.1:9/padded ',
      '',
    ),
    hostileString.map((suffix) => `http://127.0.0.1:9/${suffix}`),
    hostileString.map((suffix) => `https://[::1]:9/?q=${suffix}`),
    hostileString,
  )
  .filter(cannotLeaveLoopback);

const uuid = fc.uuid();

/** An id path segment: percent-encoded garbage, malformed escapes, dots, very long. */
const rawSegment: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('%', '%E0%A4%A', '%ED%A0%80', '%C0%AF', '%00', '%2F', '%2e%2e', '..', '.', '%ZZ', 'a'.repeat(10_000), '%FF%FE', 'null', 'undefined', '0'),
  hostileString.map((text) => [...Buffer.from(text, 'utf8')].map((byte) => `%${byte.toString(16).padStart(2, '0')}`).join('')),
  fc.string({ unit: 'grapheme-ascii' }).map((text) => text.replace(/[/?#\\]/g, '_')),
);

const INVALID_UTF8 = [
  [0xff],
  [0xfe, 0xff],
  [0xc0, 0xaf],
  [0xed, 0xa0, 0x80],
  [0xf4, 0x90, 0x80, 0x80],
  [0x22, 0xff, 0x22],
  [0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xc3, 0x22, 0x7d],
  [0xef, 0xbb, 0xbf, 0x7b, 0x7d],
].map((bytes) => Uint8Array.from(bytes));

const utf8 = (text: string) => new Uint8Array(Buffer.from(text, 'utf8'));

/** A request body as bytes: JSON of any shape, not JSON, invalid UTF-8, deep, over the limits. */
function bodyBytes(json: fc.Arbitrary<unknown>): fc.Arbitrary<Uint8Array> {
  const encode = (text: string) => new Uint8Array(Buffer.from(text, 'utf8'));
  return fc.oneof(
    { arbitrary: json.map((value) => encode(toJson(value))), weight: 4 },
    { arbitrary: fc.uint8Array({ maxLength: 512 }), weight: 2 },
    { arbitrary: fc.constantFrom(...INVALID_UTF8), weight: 1 },
    { arbitrary: fc.constantFrom('', 'null', '{', '{"a":', 'NaN', 'undefined', "{'a':1}", '[1,]', '\u0000', '1e999999', '"\\ud800"', '{"a":"\\u0000"}').map(encode), weight: 1 },
    { arbitrary: hostileString.map(encode), weight: 1 },
    { arbitrary: deepJson.map((raw) => encode(raw.text)), weight: 1 },
    { arbitrary: fc.constantFrom(65_537, 200_000, 300_000).map((size) => encode(`"${'x'.repeat(size)}"`)), weight: 1 },
  );
}

/** A header value an HTTP client can send at all: tab, printable ASCII and latin-1 (obs-text). */
const headerValue = hostileString.filter((value) => /^[\t\x20-\x7e\x80-\xff]*$/.test(value));

// ---------------------------------------------------------------------------------------------
// Sending and judging

/** JSON.stringify, except that RawJson values are spliced in as their text. */
function toJson(value: unknown): string {
  const raws: string[] = [];
  const marker = `@@raw-${randomUUID()}@@`;
  const text = JSON.stringify(value, (_key, inner) => {
    if (inner instanceof RawJson) {
      raws.push(inner.text);
      return `${marker}${raws.length - 1}`;
    }
    return inner;
  });
  if (text === undefined) return 'null';
  return raws.length === 0 ? text : text.replace(new RegExp(`"${marker}(\\d+)"`, 'g'), (_match, index) => raws[Number(index)]!);
}

/** A short, readable account of a fuzzed value for a failure report. */
function show(value: unknown): string {
  const text = JSON.stringify(value, (_key, inner) => {
    if (inner instanceof RawJson) return inner.label;
    if (inner instanceof Uint8Array) {
      try {
        const text = new TextDecoder('utf-8', { fatal: true }).decode(inner);
        return `<${inner.length} bytes of UTF-8: ${text.length > 120 ? `${text.slice(0, 120)}…` : text}>`;
      } catch {
        const hex = Buffer.from(inner.subarray(0, 48)).toString('hex');
        return `<${inner.length} bytes, not UTF-8: ${hex}${inner.length > 48 ? '…' : ''}>`;
      }
    }
    if (typeof inner === 'string' && inner.length > 80) return `${inner.slice(0, 40)}…<${inner.length} chars>`;
    return inner;
  });
  return text === undefined ? String(value) : text.length > 600 ? `${text.slice(0, 600)}…` : text;
}

interface Answer {
  status: number;
  text: string;
}

function headers(extra: Record<string, string> = {}): Record<string, string> {
  return { authorization: `Bearer ${stack().token}`, ...extra };
}

async function send(method: string, path: string, body?: string | Uint8Array, extra: Record<string, string> = {}): Promise<Answer> {
  const response = await fetch(`${stack().url}${path}`, { method, headers: headers(extra), body: body as BodyInit | undefined, signal: AbortSignal.timeout(10_000) });
  return { status: response.status, text: await response.text() };
}

function sendGraphql(query: string, variables: unknown): Promise<Answer> {
  return send('POST', '/graphql', `{"query":${JSON.stringify(query)},"variables":${toJson(variables)}}`, {
    'content-type': 'application/json',
    accept: 'application/json',
  });
}

/** What is wrong with a GraphQL answer, or null: a 4xx, or a 200 with data or errors, nothing masked. */
function graphqlProblem(answer: Answer): string | null {
  if (answer.status >= 400 && answer.status < 500 && !answer.text.includes('Unexpected error.')) return null;
  if (answer.status !== 200) return `HTTP ${answer.status}`;
  let body: any;
  try {
    body = JSON.parse(answer.text);
  } catch {
    return 'HTTP 200 with a body that is not JSON';
  }
  if (answer.status === 200 && body?.data === undefined && !Array.isArray(body?.errors)) return 'HTTP 200 with neither data nor errors';
  if (Array.isArray(body?.errors) && body.errors.some((error: any) => error?.message === 'Unexpected error.')) {
    return 'a masked "Unexpected error." (an exception in the server)';
  }
  return null;
}

/** What is wrong with a REST answer, or null: 2xx/4xx with a JSON body (Node's own 431 has none). */
function restProblem(answer: Answer): string | null {
  if (answer.status >= 500 || answer.status < 200 || (answer.status >= 300 && answer.status < 400)) return `HTTP ${answer.status}`;
  if (answer.status === 431) return null;
  try {
    JSON.parse(answer.text);
  } catch {
    return `HTTP ${answer.status} with a body that is not JSON`;
  }
  return null;
}

/**
 * Runs `check` on `runs` generated values, collecting every problem, and fails with the
 * shortest few (fast-check's own failure would stop at the first one and shrink by re-sending).
 */
async function fuzz<T>(
  what: string,
  arbitrary: fc.Arbitrary<T>,
  check: (value: T) => Promise<string | null>,
  { runs = RUNS, examples = [] }: { runs?: number; examples?: T[] } = {},
): Promise<void> {
  const problems: string[] = [];
  await fc.assert(
    fc.asyncProperty(arbitrary, async (value) => {
      let problem: string | null;
      try {
        problem = await check(value);
      } catch (error) {
        const cause = (error as Error & { cause?: Error }).cause;
        problem = `the request itself failed: ${(error as Error).message}${cause ? ` (${cause.message})` : ''}`;
      }
      if (problem) problems.push(`${show(value)}\n    → ${problem}`);
    }),
    // The examples run first, every time: hostile inputs known to matter.
    { numRuns: runs, seed: SEED, examples: examples.map((example) => [example] as [T]) },
  );
  problems.sort((a, b) => a.length - b.length);
  expect(problems.slice(0, 8), `${problems.length} of ${runs + examples.length} ${what} requests got a bad answer (FUZZ_SEED=${SEED}); shortest first`).toEqual([]);
}

function reply(answer: Answer, problem: string | null): string | null {
  return problem && `${problem}: ${answer.text.slice(0, 300)}`;
}

// ---------------------------------------------------------------------------------------------
// Fixtures: subscriptions on loopback that never send

const created = new Set<string>();

const CREATE = `mutation($input: CreateWebhookSubscriptionInput!) { createWebhookSubscription(input: $input) {
  __typename ... on WebhookSubscription { id targetUrl eventTypes status } ... on ValidationError { message fieldErrors { path message } } } }`;
const UPDATE = `mutation($id: ID!, $input: UpdateWebhookSubscriptionInput!) { updateWebhookSubscription(id: $id, input: $input) {
  __typename ... on WebhookSubscription { id targetUrl status } ... on ValidationError { fieldErrors { path message } } ... on Error { message } } }`;
const DELETE = `mutation($id: ID!) { deleteWebhookSubscription(id: $id) { __typename ... on DeletedWebhookSubscription { id } ... on Error { message } } }`;
const INGEST = `mutation($input: IngestEventInput!) { ingestEvent(input: $input) {
  __typename ... on Event { id status } ... on ValidationError { fieldErrors { path message } } ... on Error { message } } }`;
const PUBLISH = `mutation($input: PublishEventInput!) { publishEvent(input: $input) {
  __typename ... on PublishedEvents { events { id } } ... on ValidationError { fieldErrors { path message } } } }`;
const REDELIVER = `mutation($id: ID!) { redeliverEvent(id: $id) { __typename ... on Event { id status } ... on Error { message } } }`;

/** A subscription to 127.0.0.1:9 in `status`, created with a filter nothing matches so it is never sent anything. */
async function parkedSubscription(status: 'PAUSED' | 'DISABLED', eventTypes: string[] = []): Promise<string> {
  const data = await gqlData(CREATE, { input: { targetUrl: `http://127.0.0.1:9/fuzz-${status.toLowerCase()}`, eventTypes: [NEVER] } });
  const id: string = data.createWebhookSubscription.id;
  created.add(id);
  const updated = await gqlData(UPDATE, { id, input: { status, eventTypes } });
  expect(updated.updateWebhookSubscription.status).toBe(status);
  return id;
}

async function deleteSubscription(id: string): Promise<void> {
  await graphql(DELETE, { id });
  created.delete(id);
}

/** After a create that succeeded: the stored target must not leave loopback; the subscription goes at once. */
async function discardCreated(id: string, storedTarget: string): Promise<string | null> {
  created.add(id);
  await deleteSubscription(id);
  return isLoopbackOrUnparseable(storedTarget) ? null : `stored a target outside loopback: ${storedTarget.slice(0, 100)}`;
}

let pausedId: string;
let disabledId: string;
let updatableId: string;
let failedEventId: string;
let pendingEventId: string;

beforeAll(async () => {
  pausedId = await parkedSubscription('PAUSED');
  disabledId = await parkedSubscription('DISABLED');
  updatableId = await parkedSubscription('PAUSED');
  const failed = await gqlData(INGEST, { input: { subscriptionId: disabledId, payload: { fuzz: 'failed' } } });
  expect(failed.ingestEvent.status).toBe('FAILED');
  failedEventId = failed.ingestEvent.id;
  const pending = await gqlData(INGEST, { input: { subscriptionId: pausedId, payload: { fuzz: 'pending' } } });
  expect(pending.ingestEvent.status).toBe('PENDING');
  pendingEventId = pending.ingestEvent.id;
});

afterAll(async () => {
  for (const id of [...created]) await deleteSubscription(id);
});

// ---------------------------------------------------------------------------------------------
// GraphQL mutations

/** An id variable: a real one sometimes, else unknown, garbage or the wrong type. */
const idVariable = (...real: (() => string)[]): fc.Arbitrary<unknown> =>
  fc.oneof(
    ...real.map((get) => ({ arbitrary: fc.constant(null).map(() => get()), weight: 2 })),
    { arbitrary: uuid, weight: 1 },
    { arbitrary: hostileString, weight: 2 },
    { arbitrary: wrongType, weight: 1 },
  );

/** An input object: plausible fields with hostile values, missing fields, extra fields, or not an object. */
function inputVariable(fields: Record<string, fc.Arbitrary<unknown>>): fc.Arbitrary<unknown> {
  const withWrongTypes = Object.fromEntries(Object.entries(fields).map(([name, value]) => [name, fc.oneof({ arbitrary: value, weight: 4 }, { arbitrary: wrongType, weight: 1 })]));
  return fc.oneof(
    { arbitrary: fc.record(fields, { requiredKeys: [] }), weight: 6 },
    { arbitrary: fc.record(withWrongTypes, { requiredKeys: [] }), weight: 3 },
    { arbitrary: fc.record({ ...fields, unknownField: hostileString }), weight: 1 },
    { arbitrary: wrongType, weight: 1 },
  );
}

const eventTypesValue = fc.oneof(
  fc.array(hostileString, { maxLength: 4 }),
  fc.array(fc.constantFrom('order.*', '*', 'a.b', 'a', 'order.created'), { maxLength: 4 }),
  fc.constant(Array.from({ length: 101 }, (_, index) => `t${index}`)),
);
const statusValue = fc.constantFrom('PAUSED', 'DISABLED', 'paused', 'ACTIVE ', 'NOPE', '', 0);
const payloadValue = jsonish;

describe('GraphQL mutations answer hostile variables cleanly', () => {
  it(
    'createWebhookSubscription',
    async () => {
      const input = inputVariable({ targetUrl, eventTypes: eventTypesValue, secret: hostileString, name: hostileString });
      const examples = [
        { targetUrl: 'http://127.0.0.1:9/fuzz', name: 'a\u0000b' },
        { targetUrl: 'http://127.0.0.1:9/fuzz\u0000' },
        { targetUrl: 'http://127.0.0.1:9/fuzz', name: 'x\ud800' },
        { targetUrl: 'http://[::1' },
        { targetUrl: 'javascript:alert(1)' },
        { targetUrl: 'http://a b' },
        { targetUrl: `http://${'a'.repeat(10_000)}.invalid/`, eventTypes: [NEVER] },
        { targetUrl: 42 },
        'not an object',
      ];
      await fuzz('createWebhookSubscription', input, async (value) => {
        // A target the server might store outside loopback is parsed by it, so only over 2048
        // characters (refused); filter on an event type nothing publishes all the same.
        if (value && typeof value === 'object' && !Array.isArray(value)) {
          const fields = value as Record<string, unknown>;
          if (typeof fields.targetUrl === 'string' && !isLoopbackOrUnparseable(fields.targetUrl)) fields.eventTypes = [NEVER];
        }
        const answer = await sendGraphql(CREATE, { input: value });
        const problem = graphqlProblem(answer);
        if (problem) return reply(answer, problem);
        const result = JSON.parse(answer.text).data?.createWebhookSubscription;
        if (result?.__typename === 'WebhookSubscription') return discardCreated(result.id, result.targetUrl);
        return null;
      }, { examples });
    },
    TIMEOUT_MS,
  );

  it(
    'updateWebhookSubscription',
    async () => {
      const input = inputVariable({ targetUrl, eventTypes: eventTypesValue, name: hostileString, status: statusValue });
      const examples = [
        { id: updatableId, input: { name: 'a\u0000b' } },
        { id: updatableId, input: { targetUrl: 'http://127.0.0.1:9/fuzz\u0000' } },
        { id: updatableId, input: { targetUrl: 'http://[::1', status: 'ACTIVE ' } },
        { id: 'not-a-uuid', input: {} },
        { id: { id: updatableId }, input: [] },
      ];
      await fuzz('updateWebhookSubscription', fc.record({ id: idVariable(() => updatableId), input }), async (variables) => {
        const answer = await sendGraphql(UPDATE, variables);
        const problem = graphqlProblem(answer);
        if (problem) return reply(answer, problem);
        const result = JSON.parse(answer.text).data?.updateWebhookSubscription;
        if (result?.__typename === 'WebhookSubscription') {
          if (result.status === 'ACTIVE') return 'the subscription became ACTIVE, which this test never asks for';
          if (!isLoopbackOrUnparseable(result.targetUrl) && result.targetUrl.length <= 2048) return `stored a target outside loopback: ${result.targetUrl}`;
        }
        return null;
      }, { examples });
    },
    TIMEOUT_MS,
  );

  it(
    'deleteWebhookSubscription',
    async () => {
      // "fresh": a parked subscription made for the occasion, so deleting real ones is covered too.
      const id = fc.oneof({ arbitrary: fc.constant('fresh'), weight: 1 }, { arbitrary: idVariable(), weight: 5 });
      await fuzz(
        'deleteWebhookSubscription',
        id,
        async (value) => {
          const target = value === 'fresh' ? await parkedSubscription('PAUSED') : value;
          const answer = await sendGraphql(DELETE, { id: target });
          const problem = graphqlProblem(answer);
          if (value === 'fresh') {
            created.delete(target as string);
            if (!problem && JSON.parse(answer.text).data?.deleteWebhookSubscription?.__typename !== 'DeletedWebhookSubscription') {
              return `a subscription that exists was not deleted: ${answer.text.slice(0, 300)}`;
            }
          }
          return reply(answer, problem);
        },
        { runs: 80, examples: ['\u0000', '%E0%A4%A', randomUUID(), 'fresh'] },
      );
    },
    TIMEOUT_MS,
  );

  it(
    'ingestEvent (to PAUSED and DISABLED subscriptions, which send nothing)',
    async () => {
      const input = inputVariable({
        subscriptionId: idVariable(
          () => pausedId,
          () => disabledId,
        ),
        eventType: hostileString,
        payload: payloadValue,
        idempotencyKey: hostileString,
      });
      await fuzz('ingestEvent', input, async (value) => reply(...withProblem(await sendGraphql(INGEST, { input: value }), graphqlProblem)), {
        examples: [
          { subscriptionId: pausedId, payload: { fuzz: 'a\u0000b' } },
          { subscriptionId: pausedId, payload: { 'key\u0000': 1 } },
          { subscriptionId: pausedId, payload: 'lone \ud800 surrogate' },
          { subscriptionId: pausedId, payload: nested(5_000) },
          { subscriptionId: pausedId, payload: { fuzz: 1 }, idempotencyKey: 'key\u0000' },
          { subscriptionId: pausedId, payload: { fuzz: 1 }, eventType: 'order.\u0000' },
          { subscriptionId: pausedId, payload: null },
          { subscriptionId: 'not-a-uuid', payload: 1 },
        ],
      });
    },
    TIMEOUT_MS,
  );

  it(
    'publishEvent (fanning out for a few fixed event types and keys only)',
    async () => {
      // A valid publish creates an event for every matching subscription, other files' too; a
      // fixed idempotency key per (type, key) pair makes a repeat create nothing. No key at all
      // is never sent, for the same reason.
      const keys = ['fuzz-key', 'fuzz key ü', 'fuzz-\ud800', 'fuzz-\u0000', '', 'k'.repeat(257), 'x'.repeat(70_000)];
      const input = inputVariable({
        eventType: fc.oneof(fc.constantFrom('fuzz.publish.a', 'fuzz.publish.b'), hostileString.filter((type) => !/^[A-Za-z0-9_:\-]+(\.[A-Za-z0-9_:\-]+)*$/.test(type))),
        payload: payloadValue,
        idempotencyKey: fc.constantFrom(...keys),
      }).filter((value) => {
        if (!value || typeof value !== 'object' || Array.isArray(value)) return true;
        return 'idempotencyKey' in value && (value as { idempotencyKey?: unknown }).idempotencyKey !== null;
      });
      await fuzz('publishEvent', input, async (value) => reply(...withProblem(await sendGraphql(PUBLISH, { input: value }), graphqlProblem)), {
        runs: 80,
        // Each refused before anything is written, so none fans out.
        examples: [
          { eventType: 'fuzz.publish.a', payload: { fuzz: 'a\u0000b' }, idempotencyKey: 'fuzz-nul-payload' },
          { eventType: 'fuzz.publish.a', payload: 'lone \ud800 surrogate', idempotencyKey: 'fuzz-surrogate-payload' },
          { eventType: 'fuzz.publish.a', payload: nested(5_000), idempotencyKey: 'fuzz-deep-payload' },
          { eventType: 'fuzz.publish.a', payload: 1, idempotencyKey: 'fuzz-\u0000' },
          { eventType: 'a b', payload: 1, idempotencyKey: 'fuzz-key' },
        ],
      });
    },
    TIMEOUT_MS,
  );

  it(
    'redeliverEvent (of events whose subscriptions send nothing)',
    async () => {
      await fuzz(
        'redeliverEvent',
        idVariable(
          () => failedEventId,
          () => pendingEventId,
        ),
        async (id) => reply(...withProblem(await sendGraphql(REDELIVER, { id }), graphqlProblem)),
        { runs: 80, examples: ['\u0000', randomUUID(), 42] },
      );
    },
    TIMEOUT_MS,
  );

  it(
    'raw request bodies and content types at /graphql',
    async () => {
      const document = fc.oneof(fc.constantFrom(CREATE, INGEST, '{ __typename }', 'mutation { }', 'subscription { eventsUpdated { id } }', '{', ''), hostileString);
      const body = fc.oneof(
        bodyBytes(fc.record({ query: fc.oneof(document, wrongType), variables: fc.oneof(wrongType, jsonish), operationName: fc.oneof(hostileString, wrongType) }, { requiredKeys: [] })),
        bodyBytes(jsonish),
      );
      const contentType: fc.Arbitrary<string> = fc.constantFrom('application/json', 'application/graphql', 'application/graphql-response+json', 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/json; charset=utf-16', '');
      const examples = [
        { body: INVALID_UTF8[0]!, contentType: 'application/json' },
        { body: new TextEncoder().encode('--x\r\ncontent-disposition: form-data; name="operations"\r\n\r\n{}\r\n--x--'), contentType: 'multipart/form-data; boundary=x' },
        { body: new TextEncoder().encode('{"query":"{ __typename }","variables":"{"}'), contentType: 'application/json' },
      ];
      await fuzz('raw /graphql', fc.record({ body, contentType }), async ({ body: bytes, contentType: type }) => {
        // accept: a subscription would otherwise be answered as an endless event stream.
        const answer = await send('POST', '/graphql', bytes, { accept: 'application/json', ...(type ? { 'content-type': type } : {}) });
        return reply(answer, graphqlProblem(answer));
      }, { examples });
    },
    TIMEOUT_MS,
  );
});

function withProblem(answer: Answer, judge: (answer: Answer) => string | null): [Answer, string | null] {
  return [answer, judge(answer)];
}

// ---------------------------------------------------------------------------------------------
// REST routes

describe('REST routes answer hostile requests cleanly', () => {
  it(
    'POST /api/subscriptions/',
    async () => {
      const fields = fc.record(
        { target_url: targetUrl, event_types: eventTypesValue, secret: hostileString, name: hostileString },
        { requiredKeys: [] },
      );
      const shaped = fc.oneof({ arbitrary: fields, weight: 3 }, { arbitrary: fc.dictionary(hostileString, jsonish, { maxKeys: 4 }), weight: 1 });
      // Raw bytes that happen to be a JSON object naming a target are left out: only `shaped` names targets.
      const body = bodyBytes(shaped).filter((bytes) => {
        try {
          const parsed = JSON.parse(Buffer.from(bytes).toString('utf8'));
          return !(parsed && typeof parsed === 'object' && 'target_url' in parsed) || cannotLeaveLoopback(String(parsed.target_url));
        } catch {
          return true;
        }
      });
      const contentType: fc.Arbitrary<string> = fc.constantFrom('application/json', 'text/plain', 'application/json; charset=latin1', '');
      const examples = [
        { body: utf8('{"target_url":"http://127.0.0.1:9/fuzz","name":"a\\u0000b"}'), contentType: 'application/json', slash: true },
        { body: utf8('{"target_url":"http://127.0.0.1:9/fuzz\\u0000"}'), contentType: 'application/json', slash: true },
        { body: utf8(JSON.stringify({ target_url: 'http://127.0.0.1:9/fuzz', name: 'n'.repeat(70_000) })), contentType: 'application/json', slash: true },
        { body: INVALID_UTF8[0]!, contentType: 'application/json', slash: false },
      ];
      await fuzz('POST /api/subscriptions/', fc.record({ body, contentType, slash: fc.boolean() }), async ({ body: bytes, contentType: type, slash }) => {
        let sent = bytes;
        try {
          const parsed = JSON.parse(Buffer.from(bytes).toString('utf8'));
          if (parsed && typeof parsed === 'object' && typeof parsed.target_url === 'string' && !isLoopbackOrUnparseable(parsed.target_url)) {
            sent = new Uint8Array(Buffer.from(JSON.stringify({ ...parsed, event_types: [NEVER] })));
          }
        } catch {
          // Not JSON: sent as is.
        }
        const answer = await send('POST', `/api/subscriptions${slash ? '/' : ''}`, sent, type ? { 'content-type': type } : {});
        const problem = restProblem(answer);
        if (problem) return reply(answer, problem);
        if (answer.status === 201) {
          const subscription = JSON.parse(answer.text);
          return discardCreated(subscription.id, subscription.target_url);
        }
        return null;
      }, { examples });
    },
    TIMEOUT_MS,
  );

  it(
    'GET /api/subscriptions/:id/',
    async () => {
      const id = fc.oneof(fc.constant(null).map(() => pausedId), uuid, rawSegment);
      await fuzz(
        'GET /api/subscriptions/:id/',
        fc.record({ id, slash: fc.boolean() }),
        async ({ id: segment, slash }) => {
          const answer = await send('GET', `/api/subscriptions/${segment}${slash ? '/' : ''}`);
          return reply(answer, restProblem(answer));
        },
        { runs: 80, examples: [{ id: '%E0%A4%A', slash: true }, { id: '%ED%A0%80', slash: false }, { id: '%00', slash: true }] },
      );
    },
    TIMEOUT_MS,
  );

  it(
    'POST /api/ingest/:id/ (to PAUSED and DISABLED subscriptions, which send nothing)',
    async () => {
      const id = fc.oneof(
        { arbitrary: fc.constant(null).map(() => pausedId), weight: 4 },
        { arbitrary: fc.constant(null).map(() => disabledId), weight: 1 },
        { arbitrary: uuid, weight: 1 },
        { arbitrary: rawSegment, weight: 1 },
      );
      const request = fc.record(
        {
          id,
          body: bodyBytes(jsonish),
          eventType: headerValue,
          idempotencyKey: headerValue,
          query: fc.oneof(hostileString.map((type) => `?${new URLSearchParams({ event_type: type })}`), fc.constantFrom('?event_type=%E0%A4%A', '?event_type=%00', '?event_type', '?=&&=', '')),
          contentType: fc.constantFrom('application/json', 'application/octet-stream', 'text/plain; charset=utf-8', ''),
        },
        { requiredKeys: ['id', 'body'] },
      );
      const examples = [
        { id: pausedId, body: utf8('{"fuzz":"a\\u0000b"}') },
        { id: pausedId, body: utf8('"lone \\ud800 surrogate"') },
        { id: pausedId, body: utf8(nested(5_000).text) },
        { id: pausedId, body: INVALID_UTF8[0]! },
        { id: pausedId, body: utf8('{"fuzz":1}'), query: '?event_type=%E0%A4%A' },
        { id: '%E0%A4%A', body: utf8('{}') },
      ];
      await fuzz('POST /api/ingest/:id/', request, async (value) => {
        const extra: Record<string, string> = {};
        if (value.eventType !== undefined) extra['x-event-type'] = value.eventType;
        if (value.idempotencyKey !== undefined) extra['idempotency-key'] = value.idempotencyKey;
        if (value.contentType) extra['content-type'] = value.contentType;
        const answer = await send('POST', `/api/ingest/${value.id}/${value.query ?? ''}`, value.body, extra);
        return reply(answer, restProblem(answer));
      }, { examples });
    },
    TIMEOUT_MS,
  );

  it(
    'GET /api/events/:id/status/?limit=…',
    async () => {
      const id = fc.oneof(
        fc.constant(null).map(() => failedEventId),
        fc.constant(null).map(() => pendingEventId),
        uuid,
        rawSegment,
      );
      const limit = fc.oneof(
        fc.constantFrom('', '?limit=', '?limit=0', '?limit=1', '?limit=100', '?limit=101', '?limit=-1', '?limit=1e2', '?limit=0x10', '?limit=%20 5', '?limit=99999999999999999999999', '?limit=5&limit=500', '?limit=%E0%A4%A', '?limit=NaN'),
        hostileString.map((text) => `?${new URLSearchParams({ limit: text })}`),
        fc.integer().map((n) => `?limit=${n}`),
      );
      await fuzz(
        'GET /api/events/:id/status/',
        fc.record({ id, limit }),
        async ({ id: segment, limit: query }) => {
          const answer = await send('GET', `/api/events/${segment}/status/${query}`);
          return reply(answer, restProblem(answer));
        },
        { runs: 100, examples: [{ id: '%E0%A4%A', limit: '' }, { id: failedEventId, limit: '?limit=%E0%A4%A' }, { id: failedEventId, limit: '?limit=99999999999999999999999' }] },
      );
    },
    TIMEOUT_MS,
  );
});

it('the server is still up and answering afterwards', async () => {
  const health = await fetch(`${stack().url}/health`);
  expect(health.status).toBe(200);
  expect((await rest('GET', `/api/subscriptions/${pausedId}/`)).status).toBe(200);
  expect((await graphql('{ __typename }')).data).toEqual({ __typename: 'Query' });
});
