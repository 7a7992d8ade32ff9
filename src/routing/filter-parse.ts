import type { CompiledFilter, FilterNode, Json, Logic, ValueTest } from './filter-tree.js';

/**
 * Payload filters, first half: validate a subscription's filter once and compile it (see
 * `filter-tree.ts`). The syntax is Hookdeck's, shared by Outpost and, for the most part, Convoy;
 * the semantics, and where they differ from Hookdeck's, are in `filter.ts`.
 */
export type ParseResult = { ok: true; filter: CompiledFilter } | { ok: false; path: string; message: string };

/** A filter runs for every candidate subscription of every event: a hostile one must stay cheap. */
export const FILTER_LIMITS = { maxDepth: 10, maxValues: 200 } as const;

// Thrown only inside this module, so the recursive compiler needs no result plumbing.
class Refusal {
  constructor(readonly path: string, readonly message: string) {}
}

interface Budget {
  values: number;
}

/** A `FilterNode` while its keys are being read. */
interface Draft {
  exist: boolean | null;
  tests: ValueTest[];
  negated: ValueTest[][];
  fields: [string, FilterNode][];
  containsAll: FilterNode[];
  logic: Logic[];
}

export function parseFilter(input: unknown): ParseResult {
  try {
    if (!isPlainObject(input)) throw new Refusal('top level', 'a filter is a JSON object with "body" and/or "headers"');
    const budget: Budget = { values: 0 };
    let body: FilterNode | null = null;
    let headers: FilterNode | null = null;
    for (const [key, value] of Object.entries(input)) {
      const empty = isPlainObject(value) && Object.keys(value).length === 0;
      if (key === 'body') body = empty ? null : compile(value, 'body', 1, budget, false);
      else if (key === 'headers') {
        if (!isPlainObject(value)) throw new Refusal('headers', 'needs an object of header names');
        headers = empty ? null : compile(value, 'headers', 1, budget, true);
      } else throw new Refusal('top level', `only "body" and "headers" may be filtered, not "${key}"`);
    }
    return { ok: true, filter: { body, headers } };
  } catch (error) {
    if (error instanceof Refusal) return { ok: false, path: error.path, message: error.message };
    throw error;
  }
}

/** `headerNames`: keys at this level name headers, which the document holds in lower case. */
function compile(input: unknown, path: string, depth: number, budget: Budget, headerNames: boolean): FilterNode {
  count(path, depth, budget);
  const node: Draft = { exist: null, tests: [], negated: [], fields: [], containsAll: [], logic: [] };
  if (Array.isArray(input)) {
    // `[]` would hold for every array, which is never what its author meant.
    if (input.length === 0) throw new Refusal(path, 'an empty array matches any array; use {"$eq": []} for an empty one');
    input.forEach((item, i) => node.containsAll.push(compile(item, `${path}[${i}]`, depth + 1, budget, false)));
  } else if (isPlainObject(input)) {
    const entries = Object.entries(input);
    if (entries.length === 0) throw new Refusal(path, 'an empty object matches nothing useful; use {"$exist": true} to test presence');
    for (const [key, value] of entries) {
      if (key.startsWith('$')) addOperator(node, key, value, path, depth, budget, headerNames);
      else node.fields.push([headerNames ? key.toLowerCase() : key, compile(value, `${path}.${key}`, depth + 1, budget, false)]);
    }
  } else if (isPrimitive(input)) node.tests.push({ op: '$eq', value: input });
  else throw new Refusal(path, 'not a JSON value');
  return { ...node, needsValue: node.tests.length + node.negated.length + node.fields.length + node.containsAll.length > 0 };
}

function addOperator(node: Draft, op: string, value: unknown, path: string, depth: number, budget: Budget, headerNames: boolean): void {
  const operand = (): Json => literal(value, `${path}.${op}`, depth + 1, budget);
  switch (op) {
    case '$eq':
    case '$neq':
      return add(node, { op: '$eq', value: operand() }, op === '$neq');
    case '$in':
    case '$nin':
      if (!Array.isArray(value)) throw new Refusal(path, `${op} needs an array`);
      if (value.length === 0) throw new Refusal(path, `${op} needs at least one value`);
      return add(node, { op: '$in', values: operand() as Json[] }, op === '$nin');
    case '$gt':
    case '$gte':
    case '$lt':
    case '$lte':
      if (typeof value !== 'string' && typeof value !== 'number') throw new Refusal(path, `${op} needs a number or a string`);
      return add(node, { op, value: operand() as number | string }, false);
    case '$startsWith':
    case '$endsWith': {
      const strings = Array.isArray(value) && value.length > 0 && value.every((v) => typeof v === 'string');
      if (typeof value !== 'string' && !strings) throw new Refusal(path, `${op} needs a string or a non-empty array of strings`);
      const copy = operand();
      return add(node, { op, values: typeof copy === 'string' ? [copy] : (copy as string[]) }, false);
    }
    case '$exist':
      if (typeof value !== 'boolean') throw new Refusal(path, '$exist needs true or false');
      node.exist = value;
      return;
    case '$and':
    case '$or':
      if (!Array.isArray(value) || value.length === 0) throw new Refusal(path, `${op} needs a non-empty array of filters`);
      count(`${path}.${op}`, depth + 1, budget);
      node.logic.push({ op, nodes: value.map((item, i) => compile(item, `${path}.${op}[${i}]`, depth + 2, budget, headerNames)) });
      return;
    case '$not':
      node.logic.push({ op, node: compile(value, `${path}.$not`, depth + 1, budget, headerNames) });
      return;
    default:
      throw new Refusal(path, `unknown operator ${op}`);
  }
}

function add(node: Draft, test: ValueTest, negated: boolean): void {
  if (negated) node.negated.push([test]);
  else node.tests.push(test);
}

/** An operand, checked, counted and copied: the compiled filter must not change with its input. */
function literal(input: unknown, path: string, depth: number, budget: Budget): Json {
  count(path, depth, budget);
  if (isPrimitive(input)) return input;
  if (Array.isArray(input)) return input.map((item, i) => literal(item, `${path}[${i}]`, depth + 1, budget));
  if (!isPlainObject(input)) throw new Refusal(path, 'not a JSON value');
  // fromEntries defines keys, so a "__proto__" key stays a key instead of replacing the prototype.
  return Object.fromEntries(Object.entries(input).map(([key, value]) => [key, literal(value, `${path}.${key}`, depth + 1, budget)]));
}

function count(path: string, depth: number, budget: Budget): void {
  if (depth > FILTER_LIMITS.maxDepth) throw new Refusal(path, `nested deeper than ${FILTER_LIMITS.maxDepth} levels`);
  budget.values += 1;
  // The size belongs to the whole filter: no one path is to blame.
  if (budget.values > FILTER_LIMITS.maxValues) throw new Refusal('top level', `more than ${FILTER_LIMITS.maxValues} values in one filter`);
}

function isPrimitive(value: unknown): value is null | boolean | number | string {
  return value === null || typeof value === 'boolean' || typeof value === 'string' || (typeof value === 'number' && Number.isFinite(value));
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}
