import { Kind, parse, type FieldNode, type FragmentDefinitionNode, type GraphQLResolveInfo, type OperationDefinitionNode } from 'graphql';
import { describe, expect, it } from 'vitest';
import { asksOnlyForId } from '../../server/selection.ts';

/** The resolve info of every `event` field in `query` (as graphql-js gives it to that resolver). */
function eventInfo(query: string): GraphQLResolveInfo {
  const document = parse(query);
  const fragments = Object.fromEntries(
    document.definitions.filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION).map((d) => [d.name.value, d]),
  );
  const operation = document.definitions.find((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION)!;
  const attempt = operation.selectionSet.selections[0] as FieldNode;
  const fieldNodes = attempt.selectionSet!.selections.filter((s): s is FieldNode => s.kind === Kind.FIELD && s.name.value === 'event');
  return { fieldNodes, fragments } as unknown as GraphQLResolveInfo;
}

describe('asksOnlyForId', () => {
  it.each([
    ['{ attempt { event { id } } }'],
    ['{ attempt { event { id __typename } } }'],
    ['{ attempt { event { ... on Event { id } } } }'],
    ['{ attempt { event { ...Ref } } } fragment Ref on Event { id }'],
    ['{ attempt { event { id } event { __typename } } }'],
  ])('yes for %s', (query) => {
    expect(asksOnlyForId(eventInfo(query))).toBe(true);
  });

  it.each([
    ['{ attempt { event { id status } } }'],
    ['{ attempt { event { ... on Event { id payload } } } }'],
    ['{ attempt { event { ...Ref } } } fragment Ref on Event { id status }'],
    ['{ attempt { event { ...Missing } } }'],
    ['{ attempt { event { id } event { status } } }'],
    ['{ attempt { event { id status @include(if: false) } } }'],
    ['{ attempt { event { id @skip(if: true) } } }'],
  ])('no for %s', (query) => {
    expect(asksOnlyForId(eventInfo(query))).toBe(false);
  });
});
