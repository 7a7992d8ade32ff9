import { Kind, type DocumentNode, type FragmentDefinitionNode, type SelectionSetNode } from 'graphql';
import { AppError } from '../errors.js';

/**
 * What a PUBLISH token may ask for, per root operation type: `publishEvent`, and `viewer` so a
 * client (the console) can tell its user why it may do nothing else.
 */
const ROOT_FIELDS: Record<string, ReadonlySet<string>> = {
  query: new Set(['viewer', '__typename']),
  mutation: new Set(['publishEvent', '__typename']),
  subscription: new Set(),
};

/**
 * What a PUBLISH token may read of the event `publishEvent` returns: who it is, never what it
 * holds. A repeated idempotency key returns the event first stored under it, which may be
 * another publisher's: its payload, body and headers would be a read.
 */
const PUBLISHED_EVENT_FIELDS: ReadonlySet<string> = new Set(['id', 'type', 'idempotencyKey', 'receivedAt', '__typename']);

/** The fields of a selection set, through inline fragments and fragment spreads (each spread once). */
function* fieldsOf(selectionSet: SelectionSetNode, fragments: ReadonlyMap<string, FragmentDefinitionNode>, seen = new Set<string>()): Generator<{ name: string; selectionSet?: SelectionSetNode }> {
  for (const selection of selectionSet.selections) {
    if (selection.kind === Kind.FIELD) yield { name: selection.name.value, selectionSet: selection.selectionSet };
    else if (selection.kind === Kind.INLINE_FRAGMENT) yield* fieldsOf(selection.selectionSet, fragments, seen);
    else if (!seen.has(selection.name.value)) {
      seen.add(selection.name.value);
      const fragment = fragments.get(selection.name.value);
      if (fragment) yield* fieldsOf(fragment.selectionSet, fragments, seen);
    }
  }
}

const refuse = (what: string) => new AppError('FORBIDDEN', `${what} is not allowed: a PUBLISH token may only call publishEvent (and read viewer)`);

/**
 * FORBIDDEN for a document a PUBLISH token may not run, before anything executes. Every
 * operation of the document is checked, whichever one is named to run, and `@skip` / `@include`
 * are ignored: a publisher has no reason to send more, and a stricter rule is easier to trust.
 */
export function publishScopeRefusal(document: DocumentNode): AppError | undefined {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  for (const definition of document.definitions) {
    if (definition.kind !== Kind.OPERATION_DEFINITION) continue;
    const allowed = ROOT_FIELDS[definition.operation]!;
    for (const field of fieldsOf(definition.selectionSet, fragments)) {
      if (!allowed.has(field.name)) return refuse(`${definition.operation} field ${field.name}`);
      if (field.name !== 'publishEvent' || !field.selectionSet) continue;
      for (const inner of fieldsOf(field.selectionSet, fragments)) {
        if (!PUBLISHED_EVENT_FIELDS.has(inner.name)) return refuse(`publishEvent { ${inner.name} }`);
      }
    }
  }
  return undefined;
}

/** The root fields a PUBLISH token may resolve, by parent type name: the middleware's copy of ROOT_FIELDS. */
export function publishMayResolve(parentTypeName: string, fieldName: string): boolean {
  const operation = { Query: 'query', Mutation: 'mutation', Subscription: 'subscription' }[parentTypeName];
  return operation === undefined || ROOT_FIELDS[operation]!.has(fieldName);
}
