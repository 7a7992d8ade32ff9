import 'reflect-metadata';
import { lexicographicSortSchema, printSchema, type GraphQLSchema } from 'graphql';
import { buildSchema } from 'type-graphql';
import { RelayResolver } from './resolvers/relay-resolver.js';
import { SourceResolver } from './resolvers/source-resolver.js';

/** Code-first: the committed `schema.graphql` is printed from this and a test fails on drift. */
export function buildHookyardSchema(): Promise<GraphQLSchema> {
  return buildSchema({ resolvers: [SourceResolver, RelayResolver], validate: true });
}

export function printHookyardSchema(schema: GraphQLSchema): string {
  return `${printSchema(lexicographicSortSchema(schema))}\n`;
}
