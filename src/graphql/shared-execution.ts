import { createSourceEventStream, execute, print, type ExecutionArgs, type ExecutionResult } from 'graphql';
import type { GraphQLContext } from './context.js';

type Result = ExecutionResult | Promise<ExecutionResult>;

/**
 * The results computed so far for each live event (the item object a feed hands to all its
 * listeners), by sharing key. Held weakly: an event's results go when no subscriber still
 * holds the event, however many distinct operations saw it.
 */
const resultsByEvent = new WeakMap<object, Map<string, Result>>();

/**
 * What a subscription's result for one event may depend on besides the event: the principal
 * (what its token may see, all of it, so a field added to `Principal` can only split groups,
 * never merge them), the operation and its variables. Undefined: never shared.
 */
function sharingKey(args: ExecutionArgs): string | undefined {
  const principal = (args.contextValue as Partial<GraphQLContext> | undefined)?.principal;
  if (!principal) return undefined;
  return JSON.stringify([principal, args.operationName ?? null, args.variableValues ?? null, print(args.document)]);
}

/**
 * graphql's `subscribe`, except that subscribers with the same sharing key execute each event
 * once between them: with 500 sockets watching one feed, a status change was resolved and
 * its dates serialised 500 times for the same few distinct selections. Each subscription keeps
 * its own source stream (its own filter, `after` replay and backlog bound, see
 * live-iterator.ts), so only the execution of an event that several streams yield is shared,
 * and only among subscribers whose token, operation and variables are the same.
 */
export async function subscribeSharingResults(args: ExecutionArgs): Promise<AsyncGenerator<ExecutionResult, void, void> | ExecutionResult> {
  const source = await createSourceEventStream(args);
  if (!(Symbol.asyncIterator in Object(source))) return source as ExecutionResult;
  const key = sharingKey(args);
  return mapEvents(source as AsyncIterable<unknown>, (event) => resultFor(args, key, event));
}

function resultFor(args: ExecutionArgs, key: string | undefined, event: unknown): Result {
  if (key === undefined || typeof event !== 'object' || event === null) return execute({ ...args, rootValue: event });
  let byKey = resultsByEvent.get(event);
  if (!byKey) resultsByEvent.set(event, (byKey = new Map()));
  let result = byKey.get(key);
  if (!result) {
    result = execute({ ...args, rootValue: event });
    byKey.set(key, result);
  }
  return result;
}

const isPromiseLike = (value: Result): value is Promise<ExecutionResult> => typeof (value as Partial<PromiseLike<unknown>>).then === 'function';

/** graphql's internal `mapAsyncIterator`: a failed mapping closes the source, and return/throw reach it. */
function mapEvents(source: AsyncIterable<unknown>, map: (event: unknown) => Result): AsyncGenerator<ExecutionResult, void, void> {
  const iterator = source[Symbol.asyncIterator]();
  const close = async (): Promise<void> => {
    try {
      await iterator.return?.();
    } catch {
      // The mapping's own error is the one to report.
    }
  };
  const failed = async (error: unknown): Promise<never> => {
    await close();
    throw error;
  };
  // Plain callbacks rather than async functions: this runs once per value per subscriber, and
  // each async layer cost a promise and a turn of the microtask queue.
  const mapped = (step: IteratorResult<unknown>): IteratorResult<ExecutionResult, void> | Promise<IteratorResult<ExecutionResult, void>> => {
    if (step.done) return { value: undefined, done: true };
    let result: Result;
    try {
      result = map(step.value);
    } catch (error) {
      return failed(error);
    }
    if (!isPromiseLike(result)) return { value: result, done: false };
    return Promise.resolve(result).then((value) => ({ value, done: false }), failed);
  };
  const generator: AsyncGenerator<ExecutionResult, void, void> = {
    next: () => iterator.next().then(mapped),
    return: async () => (iterator.return ? mapped(await iterator.return()) : { value: undefined, done: true }),
    throw: async (error: unknown) => {
      if (iterator.throw) return mapped(await iterator.throw(error));
      await close();
      throw error;
    },
    [Symbol.asyncIterator]: () => generator,
    [Symbol.asyncDispose]: async () => {
      await generator.return();
    },
  };
  return generator;
}
