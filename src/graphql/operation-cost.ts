import { getOperationAST, getVariableValues, type DocumentNode, type GraphQLSchema } from 'graphql';
import { getComplexity, type ComplexityEstimator } from 'graphql-query-complexity';
import { DEFAULT_PAGE } from './pagination.js';

/**
 * What a field weighs besides the 1 every field costs: values that may be large (an event's
 * body and payload reach `maxBodyBytes`, 1 MiB by default; headers and response excerpts a few
 * KiB) and `stats`, whose three counts scan the retention window.
 */
export const FIELD_WEIGHTS: Readonly<Record<string, number>> = {
  body: 100,
  payload: 100,
  stats: 100,
  // Two statements over the relay's recent attempts.
  health: 10,
  headers: 10,
  requestHeaders: 10,
  responseBodyExcerpt: 10,
};

/**
 * A field's cost: its weight, plus its children's cost times the rows it may return. A field
 * with a `first` argument returns up to `first` rows (the API's default page when absent), so
 * `deliveries(first: 100) { attempts { … } }` costs 100 × 20 attempts. A `first` below 1 counts
 * as 1: the resolver refuses it, and a negative multiplier must not lower its siblings' total.
 */
export const estimateField: ComplexityEstimator = ({ field, args, childComplexity }) => {
  const weight = FIELD_WEIGHTS[field.name] ?? 1;
  if (!field.args.some((arg) => arg.name === 'first')) return weight + childComplexity;
  const first = typeof args.first === 'number' ? Math.max(1, args.first) : DEFAULT_PAGE;
  return weight + first * childComplexity;
};

/**
 * The operation's estimated cost; `undefined` when the operation or its variables are invalid
 * (execution refuses those before any resolver runs). Throws past `maxNodes` fields visited
 * (fragments spread into each other can multiply a short document into millions of fields).
 */
export function operationCost(schema: GraphQLSchema, document: DocumentNode, variables: Record<string, unknown> | undefined, operationName: string | undefined, maxNodes: number): number | undefined {
  const operation = getOperationAST(document, operationName);
  if (!operation) return undefined;
  const coerced = getVariableValues(schema, operation.variableDefinitions ?? [], variables ?? {});
  if (coerced.errors) return undefined;
  return getComplexity({ schema, query: document, variables: variables ?? {}, operationName, estimators: [estimateField], maxQueryNodes: maxNodes });
}
