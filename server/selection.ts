// What a query asks of a field, for resolvers that can answer part of it without loading.
import { Kind, type GraphQLResolveInfo, type SelectionSetNode } from 'graphql';

/**
 * Whether the query asks this field for nothing but `id` (and `__typename`): then a reference
 * the parent already holds answers it, with no load. Any directive, or a fragment that asks for
 * more, means no.
 */
export function asksOnlyForId(info: GraphQLResolveInfo): boolean {
  const only = (selectionSet: SelectionSetNode | undefined): boolean =>
    selectionSet !== undefined &&
    selectionSet.selections.every((selection) => {
      if (selection.directives?.length) return false;
      switch (selection.kind) {
        case Kind.FIELD:
          return selection.name.value === 'id' || selection.name.value === '__typename';
        case Kind.INLINE_FRAGMENT:
          return only(selection.selectionSet);
        case Kind.FRAGMENT_SPREAD: {
          const fragment = info.fragments[selection.name.value];
          return fragment !== undefined && only(fragment.selectionSet);
        }
      }
    });
  return info.fieldNodes.every((node) => only(node.selectionSet));
}

/**
 * A relation's row: just its id when that is all the query asks (the parent holds it), else
 * loaded (through a per-request loader). The row exists: the parent's foreign key says so.
 */
export async function referencedRow<T extends { id: string }>(info: GraphQLResolveInfo, id: string, load: (id: string) => Promise<T | null>): Promise<T> {
  return asksOnlyForId(info) ? ({ id } as T) : (await load(id))!;
}
