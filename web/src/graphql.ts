// Typed GraphQL documents (gql.tada), checked against ../../schema.graphql by `tsc -p web`:
// a field the schema lacks fails the type-check. The types come from src/graphql-env.d.ts,
// which `npm run web:types` generates.
import { initGraphQLTada } from 'gql.tada';
import type { introspection } from './graphql-env.d.ts';

export const graphql = initGraphQLTada<{
  introspection: introspection;
  scalars: {
    DateTime: string;
    JSON: unknown;
  };
}>();

export type { FragmentOf, ResultOf, VariablesOf } from 'gql.tada';
export { readFragment } from 'gql.tada';
