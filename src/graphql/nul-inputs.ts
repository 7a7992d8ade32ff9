import {
  BREAK, getNullableType, isInputObjectType, isListType, Kind, TypeInfo, visit, visitWithTypeInfo,
  type DocumentNode, type GraphQLInputType, type GraphQLSchema, type ValueNode, type VariableDefinitionNode,
} from 'graphql';
import { AppError } from '../errors.js';

/**
 * PostgreSQL refuses NUL in `text` and in jsonb strings (STACK.md "Security traps"), so a
 * NUL in any input would reach SQL as a 500. It is refused here, once, before any resolver
 * runs (HTTP and websockets both call this after validation): every argument in the
 * document, literal or variable (its default too), down through input objects and lists,
 * and anywhere inside a JSON value. The error names where the value sits from the argument
 * on (`filter.type`, `input.headers[0].value`), with names from the schema only: a JSON
 * value is named by its argument or field, never by its own keys.
 */
export function nulInputRefusal(schema: GraphQLSchema, document: DocumentNode, variables: Record<string, unknown> | null | undefined): AppError | undefined {
  const defaults = new Map<string, VariableDefinitionNode>();
  for (const definition of document.definitions) {
    if (definition.kind !== Kind.OPERATION_DEFINITION) continue;
    for (const variable of definition.variableDefinitions ?? []) defaults.set(variable.variable.name.value, variable);
  }
  const given = variables ?? {};

  /** A JS value (a variable's) of the given input type; the path where NUL sits, if any. */
  const inValue = (value: unknown, type: GraphQLInputType | undefined, path: string): string | undefined => {
    if (typeof value === 'string') return value.includes('\0') ? path : undefined;
    if (value === null || typeof value !== 'object') return undefined;
    const named = type && getNullableType(type);
    if (named && isListType(named)) {
      const item = named.ofType as GraphQLInputType;
      // A single value where a list goes is coerced to a list of one.
      return Array.isArray(value) ? first(value, (v, i) => inValue(v, item, `${path}[${i}]`)) : inValue(value, item, `${path}[0]`);
    }
    if (named && isInputObjectType(named) && !Array.isArray(value)) {
      const fields = named.getFields();
      // Unknown fields are refused by coercion, before anything runs.
      return first(Object.entries(value), ([key, v]) => (key in fields ? inValue(v, fields[key]!.type, `${path}.${key}`) : undefined));
    }
    // A JSON value (or a shape coercion will refuse): named by its argument or field.
    return jsonHoldsNul(value) ? path : undefined;
  };

  /** A literal in the document; variables inside it are looked up (or their defaults). */
  const inNode = (node: ValueNode, type: GraphQLInputType | undefined, path: string): string | undefined => {
    const named = type && getNullableType(type);
    switch (node.kind) {
      case Kind.STRING:
        return node.value.includes('\0') ? path : undefined;
      case Kind.VARIABLE: {
        const name = node.name.value;
        if (Object.hasOwn(given, name)) return inValue(given[name], type, path);
        const fallback = defaults.get(name)?.defaultValue;
        return fallback ? inNode(fallback, type, path) : undefined;
      }
      case Kind.LIST: {
        // (A literal's depth is bounded by the token limit, checked before parsing.)
        const item = named && isListType(named) ? (named.ofType as GraphQLInputType) : named;
        return first(node.values, (v, i) => inNode(v, item, named && isListType(named) ? `${path}[${i}]` : path));
      }
      case Kind.OBJECT: {
        if (named && isListType(named)) return inNode(node, named.ofType as GraphQLInputType, `${path}[0]`);
        const fields = named && isInputObjectType(named) ? named.getFields() : undefined;
        return first(node.fields, (field) => {
          const name = field.name.value;
          return fields ? (name in fields ? inNode(field.value, fields[name]!.type, `${path}.${name}`) : undefined) : inNode(field.value, undefined, path);
        });
      }
      default:
        return undefined;
    }
  };

  let found: string | undefined;
  const typeInfo = new TypeInfo(schema);
  visit(document, visitWithTypeInfo(typeInfo, {
    Argument(node) {
      found = inNode(node.value, typeInfo.getArgument()?.type, node.name.value);
      return found === undefined ? undefined : BREAK;
    },
  }));
  return found === undefined ? undefined : new AppError('BAD_USER_INPUT', `${found}: must not contain NUL (U+0000)`, { field: found });
}

/**
 * Any string or key holding NUL inside a JSON value from a variable, walked with a stack:
 * a 1 MiB body can nest far deeper than recursion could follow.
 */
function jsonHoldsNul(root: unknown): boolean {
  const pending: unknown[] = [root];
  while (pending.length > 0) {
    const value = pending.pop();
    if (typeof value === 'string') {
      if (value.includes('\0')) return true;
    } else if (Array.isArray(value)) {
      for (const v of value) pending.push(v);
    } else if (value !== null && typeof value === 'object') {
      for (const [key, v] of Object.entries(value)) {
        if (key.includes('\0')) return true;
        pending.push(v);
      }
    }
  }
  return false;
}

function first<T>(items: readonly T[], check: (item: T, index: number) => string | undefined): string | undefined {
  for (let i = 0; i < items.length; i++) {
    const found = check(items[i]!, i);
    if (found !== undefined) return found;
  }
  return undefined;
}
