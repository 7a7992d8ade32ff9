import { readFileSync } from 'node:fs';
import {
  buildSchema, getNamedType, isEnumType, isInputObjectType, isListType, isNonNullType, isObjectType, isScalarType,
  type GraphQLField, type GraphQLInputType, type GraphQLObjectType,
} from 'graphql';

/** The committed schema, read from the file so that every new operation is covered. */
export const schema = buildSchema(readFileSync(new URL('../../schema.graphql', import.meta.url), 'utf8'));

/** A value of the given input type that passes GraphQL validation (not necessarily business rules). */
function sample(type: GraphQLInputType): unknown {
  if (isNonNullType(type)) return sample(type.ofType);
  if (isListType(type)) return [sample(type.ofType)];
  if (isEnumType(type)) return type.getValues()[0]!.value;
  if (isInputObjectType(type)) {
    return Object.fromEntries(Object.values(type.getFields()).filter((f) => isNonNullType(f.type)).map((f) => [f.name, sample(f.type)]));
  }
  if (isScalarType(type)) {
    return { ID: '01900000-0000-7000-8000-000000000000', String: 'x', Int: 1, Boolean: true, DateTimeISO: new Date().toISOString(), JSON: {} }[type.name];
  }
  throw new Error(`no sample for ${String(type)}`);
}

function selection(field: GraphQLField<unknown, unknown>): string {
  const named = getNamedType(field.type);
  return isObjectType(named) ? ' { __typename }' : '';
}

/** One operation per root field of the committed schema, with sample variables: tests that must cover every operation. */
export function operations(root: GraphQLObjectType | null | undefined, keyword: string) {
  return Object.values(root?.getFields() ?? {}).map((field) => {
    const args = field.args;
    const variables = Object.fromEntries(args.filter((a) => isNonNullType(a.type)).map((a) => [a.name, sample(a.type)]));
    const declared = args.filter((a) => a.name in variables).map((a) => `$${a.name}: ${String(a.type)}`).join(', ');
    const passed = args.filter((a) => a.name in variables).map((a) => `${a.name}: $${a.name}`).join(', ');
    const query = `${keyword} Op${declared ? `(${declared})` : ''} { ${field.name}${passed ? `(${passed})` : ''}${selection(field)} }`;
    return { name: field.name, query, variables };
  });
}

