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
    if (Array.isArray(value)) {
      // Inside a JSON value the path stops at the JSON argument or field.
      const item = named && isListType(named) ? (named.ofType as GraphQLInputType) : named;
      return first(value, (v, i) => inValue(v, item, named && isListType(named) ? `${path}[${i}]` : path));
    }
    if (named && isListType(named)) return inValue([value], named, path); // a single value where a list goes
    if (named && isInputObjectType(named)) {
      const fields = named.getFields();
      // Unknown fields are refused by coercion, before anything runs.
      return first(Object.entries(value), ([key, v]) => (key in fields ? inValue(v, fields[key]!.type, `${path}.${key}`) : undefined));
    }
    return first(Object.entries(value), ([key, v]) => (key.includes('\0') ? path : inValue(v, undefined, path)));
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

function first<T>(items: readonly T[], check: (item: T, index: number) => string | undefined): string | undefined {
  for (let i = 0; i < items.length; i++) {
    const found = check(items[i]!, i);
    if (found !== undefined) return found;
  }
  return undefined;
}
