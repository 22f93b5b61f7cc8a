import { Kind, type GraphQLResolveInfo } from 'graphql';

/**
 * Whether the client asked for nothing of this field's object but `id` (and
 * `__typename`), plainly, without fragments or directives. A resolver that already holds
 * the id (a message's sender, say) can then answer without reading the row: a chat
 * client's `sender { id }` costs no statement.
 */
export function onlyIdSelected(info: GraphQLResolveInfo): boolean {
  return info.fieldNodes.every(
    (node) =>
      node.selectionSet?.selections.every(
        (s) => s.kind === Kind.FIELD && (s.name.value === 'id' || s.name.value === '__typename') && !s.directives?.length,
      ) ?? false,
  );
}
