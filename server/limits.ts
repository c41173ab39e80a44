// Bounds on what one request may ask of the server, as envelop/Yoga plugins. They apply to every
// transport that goes through Yoga's envelop (HTTP, SSE, and graphql-ws via app.getEnveloped).
//
// The numbers leave room above what the dashboard sends (web/src/documents.ts, measured with
// urql's added __typename fields and the page sizes the dashboard asks for):
//   deepest: Subscriptions and SubscriptionAttempts, depth 6
//   largest: Subscriptions, 109 tokens; costliest: Subscriptions with first: 50, cost ≈ 10,500
//            (≈ 21,000 with first: 100, the largest page any connection serves)
//   aliases: none
import { costLimitRule } from '@escape.tech/graphql-armor-cost-limit';
import { maxAliasesPlugin } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthPlugin } from '@escape.tech/graphql-armor-max-depth';
import { maxTokensPlugin } from '@escape.tech/graphql-armor-max-tokens';
import {
  GraphQLError,
  Kind,
  NoSchemaIntrospectionCustomRule,
  TypeInfo,
  getOperationAST,
  validate,
  visit,
  visitWithTypeInfo,
  type ArgumentNode,
  type DocumentNode,
  type ExecutionArgs,
  type ValidationContext,
  type ValueNode,
} from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { Config } from '../core/config.ts';

/** Deepest nesting of fields in an operation, fragments flattened. The dashboard's deepest is 6. */
export const MAX_DEPTH = 10;

/** Aliased fields in an operation (`__typename` does not count). The dashboard uses none. */
export const MAX_ALIASES = 15;

/**
 * graphql-armor's cost: 1 per scalar, 2 per object, ×1.5 per level, and a connection's
 * subtree × its page size. Twice the dashboard's costliest query at the largest page size;
 * two nested connections of 100 (10,000 rows) are well over it.
 */
export const MAX_COST = 50_000;

/**
 * Lexical tokens in one document; bounds parsing and validation work (some validation rules
 * are quadratic in the number of fields). Forty times the dashboard's largest query. Large
 * payloads belong in variables, which are not tokens.
 */
export const MAX_TOKENS = 5_000;

/**
 * Yoga's batching (several operations in one HTTP request, as a JSON array) stays off: the
 * dashboard never batches, and a batch would multiply every other limit. An array is a 400.
 */
export const GRAPHQL_BATCHING = false;

/** Request body slack beyond the payload: the query text, the other variables, JSON escaping. */
export const BODY_OVERHEAD_BYTES = 64 * 1024;

/**
 * Largest request body, GraphQL or REST: twice MAX_PAYLOAD_BYTES (a payload escaped inside a
 * variable can grow) plus the overhead. Larger is a 413, without reading more than this.
 */
export function maxRequestBodyBytes(config: Pick<Config, 'maxPayloadBytes'>): number {
  return 2 * config.maxPayloadBytes + BODY_OVERHEAD_BYTES;
}

/** The page size a connection serves without `first`/`last`, and the largest (server/schema/errors.ts). */
const DEFAULT_PAGE_SIZE = 20;
const MAX_PAGE_SIZE = 100;

export const LIMIT_ERROR_CODE = 'QUERY_LIMIT_EXCEEDED';

/** graphql-armor says "Syntax Error: …" for every limit; say what it is, with a code to match on. */
function limitError(error: GraphQLError): GraphQLError {
  return new GraphQLError(error.message.replace(/^Syntax Error: /, ''), { extensions: { code: LIMIT_ERROR_CODE } });
}

/** Report as validation errors (so HTTP, SSE and graphql-ws all answer them as such) instead of throwing. */
const reportAsValidationError = {
  propagateOnRejection: false,
  onReject: [(context: ValidationContext | null, error: GraphQLError) => context?.reportError(limitError(error))],
};

const costOptions = { maxCost: MAX_COST, flattenFragments: true, ...reportAsValidationError };

/**
 * The document as the cost rule should see it at execution: page-size variables replaced by
 * their values, and connections without `first`/`last` given the default page size. The
 * validation-time rule sees only literals, so `first: $n` would otherwise cost as one row.
 */
function withPageSizes(args: ExecutionArgs): { document: DocumentNode; pageSizeKey: (variables: Record<string, unknown>) => string } {
  const variables = (args.variableValues ?? {}) as Record<string, unknown>;
  const defaults = new Map<string, ValueNode>();
  for (const definition of getOperationAST(args.document, args.operationName)?.variableDefinitions ?? []) {
    if (definition.defaultValue) defaults.set(definition.variable.name.value, definition.defaultValue);
  }
  // Null, a wrong type or an out-of-range size: the connection's default, or its own refusal (BAD_USER_INPUT).
  const rows = (size: unknown) => (typeof size === 'number' && Number.isInteger(size) ? Math.min(Math.max(size, 1), MAX_PAGE_SIZE) : DEFAULT_PAGE_SIZE);
  const variableSize = (values: Record<string, unknown>, name: string) => {
    const fallback = defaults.get(name);
    // An explicit null means "no page size", as absent does: the connection's default.
    return rows(Object.hasOwn(values, name) ? values[name] : fallback?.kind === Kind.INT ? Number(fallback.value) : null);
  };
  const pageSizeVariables: string[] = [];
  const pageSize = (value: ValueNode): ValueNode => {
    if (value.kind !== Kind.VARIABLE) return { kind: Kind.INT, value: String(rows(value.kind === Kind.INT ? Number(value.value) : null)) };
    pageSizeVariables.push(value.name.value);
    return { kind: Kind.INT, value: String(variableSize(variables, value.name.value)) };
  };
  const typeInfo = new TypeInfo(args.schema);
  const document = visit(
    args.document,
    visitWithTypeInfo(typeInfo, {
      Field(node) {
        const definition = typeInfo.getFieldDef();
        if (!definition?.args.some((arg) => arg.name === 'first')) return undefined;
        const given = (node.arguments ?? []).filter((arg) => arg.name.value === 'first' || arg.name.value === 'last');
        const rest = (node.arguments ?? []).filter((arg) => !given.includes(arg));
        const sizes: ArgumentNode[] =
          given.length > 0
            ? given.map((arg) => ({ ...arg, value: pageSize(arg.value) }))
            : [{ kind: Kind.ARGUMENT, name: { kind: Kind.NAME, value: 'first' }, value: { kind: Kind.INT, value: String(DEFAULT_PAGE_SIZE) } }];
        return { ...node, arguments: [...sizes, ...rest] };
      },
    }),
  );
  // The cost depends on nothing else: the page sizes the variables give, in document order.
  return { document, pageSizeKey: (values) => pageSizeVariables.map((name) => variableSize(values, name)).join(',') };
}

/** Cost with the real page sizes, checked once the variables are known, before any resolver runs. */
function costAtExecutionPlugin(): Plugin {
  // Yoga hands the same parsed document to every request with the same text, and its cost
  // depends only on the page sizes its variables give: answers are kept per document,
  // operation and page sizes (a dashboard's few), so a request costs a lookup, not a visit.
  interface Costs {
    pageSizeKey: (variables: Record<string, unknown>) => string;
    bySizes: Map<string, readonly GraphQLError[]>;
  }
  const costs = new WeakMap<DocumentNode, Map<string, Costs>>();
  const KEPT_PER_OPERATION = 100;
  const check = (args: ExecutionArgs): readonly GraphQLError[] => {
    const operation = args.operationName ?? '';
    const variables = (args.variableValues ?? {}) as Record<string, unknown>;
    const known = costs.get(args.document)?.get(operation);
    const key = known?.pageSizeKey(variables);
    const answer = key === undefined ? undefined : known?.bySizes.get(key);
    if (answer) return answer;
    const { document, pageSizeKey } = withPageSizes(args);
    const errors = validate(args.schema, document, [costLimitRule(costOptions)]);
    const byOperation = costs.get(args.document) ?? new Map<string, Costs>();
    const entry = byOperation.get(operation) ?? { pageSizeKey, bySizes: new Map() };
    if (entry.bySizes.size < KEPT_PER_OPERATION) entry.bySizes.set(pageSizeKey(variables), errors);
    byOperation.set(operation, entry);
    costs.set(args.document, byOperation);
    return errors;
  };
  return {
    onExecute({ args, setResultAndStopExecution }) {
      const errors = check(args);
      if (errors.length > 0) setResultAndStopExecution({ errors });
    },
    onSubscribe({ args, setResultAndStopExecution }) {
      const errors = check(args);
      if (errors.length > 0) setResultAndStopExecution({ errors });
    },
  };
}

/** `__schema` and `__type` refused, and no "Did you mean …?" hints that would spell the schema out. */
function noIntrospectionPlugin(): Plugin {
  return {
    onValidate({ addValidationRule }) {
      addValidationRule(NoSchemaIntrospectionCustomRule);
      return ({ valid, result, setResult }) => {
        if (valid) return;
        setResult(
          result.map((error) =>
            / Did you mean .*$/.test(error.message)
              ? new GraphQLError(error.message.replace(/ Did you mean .*$/, ''), { nodes: error.nodes, extensions: error.extensions })
              : error,
          ),
        );
      };
    },
  };
}

/**
 * graphql-js stops comparing fields that share a response name once it has spent its own budget
 * (OverlappingFieldsCanBeMergedRule) and says only "Validation aborted."; say why.
 */
function validationAbortedPlugin(): Plugin {
  return {
    onValidate() {
      return ({ valid, result, setResult }) => {
        if (valid || !result.some((error) => error.message === 'Validation aborted.')) return;
        setResult(
          result.map((error) =>
            error.message === 'Validation aborted.'
              ? new GraphQLError('Validation aborted: the operation repeats too many fields to check; send a smaller one.', {
                  extensions: { code: LIMIT_ERROR_CODE },
                })
              : error,
          ),
        );
      };
    },
  };
}

/** Depth, aliases, tokens and cost of every operation; introspection as configured. */
export function graphqlLimitPlugins(config: Pick<Config, 'graphqlIntrospection'>): Plugin[] {
  return [
    // Throws while parsing (there is no validation context to report to).
    maxTokensPlugin({
      n: MAX_TOKENS,
      onReject: [
        (_context, error) => {
          throw limitError(error);
        },
      ],
    }),
    maxDepthPlugin({ n: MAX_DEPTH, flattenFragments: true, ...reportAsValidationError }),
    maxAliasesPlugin({ n: MAX_ALIASES, ...reportAsValidationError }),
    { onValidate: ({ addValidationRule }) => addValidationRule(costLimitRule(costOptions)) } satisfies Plugin,
    costAtExecutionPlugin(),
    validationAbortedPlugin(),
    ...(config.graphqlIntrospection ? [] : [noIntrospectionPlugin()]),
  ];
}

function tooLarge(url: URL, limit: number): Response {
  const message = `Request body is larger than ${limit} bytes (2 × MAX_PAYLOAD_BYTES + 64 KiB)`;
  const body = url.pathname.startsWith('/api/')
    ? { error: message }
    : { errors: [{ message, extensions: { code: 'PAYLOAD_TOO_LARGE' } }] };
  return Response.json(body, { status: 413 });
}

/**
 * Refuses bodies over `limit` bytes with 413: by Content-Length before reading any of it, and a
 * chunked body by reading at most `limit` bytes (then handing on a buffered copy).
 */
export function bodyLimitPlugin(limit: number): Plugin {
  return {
    async onRequest({ request, setRequest, endResponse, url, fetchAPI }) {
      if (request.method === 'GET' || request.method === 'HEAD' || request.body === null) return;
      const declared = request.headers.get('content-length');
      if (declared !== null) {
        // Node's HTTP parser ends the body at the declared length.
        if (Number(declared) > limit) endResponse(tooLarge(url, limit));
        return;
      }
      const chunks: Uint8Array[] = [];
      let size = 0;
      const reader = request.body.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        size += value.byteLength;
        if (size > limit) {
          await reader.cancel().catch(() => undefined);
          endResponse(tooLarge(url, limit));
          return;
        }
        chunks.push(value);
      }
      const headers = new fetchAPI.Headers(request.headers);
      headers.delete('transfer-encoding');
      headers.set('content-length', String(size));
      setRequest(new fetchAPI.Request(request.url, { method: request.method, headers, body: Buffer.concat(chunks) }));
    },
  };
}
