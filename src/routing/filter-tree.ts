/**
 * The compiled form of a payload filter: what `filter-parse.ts` produces once per subscription and
 * `filter.ts` walks for every event, so evaluation never re-reads the filter's JSON.
 */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** A test on one candidate: the value itself or, when the value is an array, one element. */
export type ValueTest =
  | { readonly op: '$eq'; readonly value: Json }
  | { readonly op: '$in'; readonly values: readonly Json[] }
  | { readonly op: '$gt' | '$gte' | '$lt' | '$lte'; readonly value: number | string }
  | { readonly op: '$startsWith' | '$endsWith'; readonly values: readonly string[] };

export type Logic =
  | { readonly op: '$and' | '$or'; readonly nodes: readonly FilterNode[] }
  | { readonly op: '$not'; readonly node: FilterNode };

/** One filter value. Every list is a conjunction; an empty list holds. */
export interface FilterNode {
  readonly exist: boolean | null;
  /** Plain primitives and `$eq $gt $gte $lt $lte $in $startsWith $endsWith`: all pass on one candidate. */
  readonly tests: readonly ValueTest[];
  /** `$neq` / `$nin`, each kept as the test that no candidate may pass. */
  readonly negated: readonly (readonly ValueTest[])[];
  readonly fields: readonly (readonly [string, FilterNode])[];
  /** A plain array: each item must match some element. */
  readonly containsAll: readonly FilterNode[];
  readonly logic: readonly Logic[];
  /** Holds a condition besides `$exist` and logic, so an absent value fails at once. */
  readonly needsValue: boolean;
}

/** A `null` scope has no condition (absent or `{}` in the filter). */
export interface CompiledFilter {
  readonly body: FilterNode | null;
  readonly headers: FilterNode | null;
}
