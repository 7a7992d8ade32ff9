import { GraphQLID, GraphQLNonNull, GraphQLObjectType, GraphQLSchema, GraphQLString, parse, type ExecutionResult } from 'graphql';
import { describe, expect, it, vi } from 'vitest';
import type { Principal } from '../../src/auth/principal.js';
import { liveIterator } from '../../src/graphql/live-iterator.js';
import { subscribeSharingResults } from '../../src/graphql/shared-execution.js';

/** One feed handing the same item object to every listener, as the live feeds do. */
function feed() {
  const listeners = new Set<(item: { id: string }, seq: number) => void>();
  let seq = 0;
  return {
    listeners,
    listen(listener: (item: { id: string }, seq: number) => void) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    send(item: { id: string }) {
      seq += 1;
      for (const listener of listeners) listener(item, seq);
    },
  };
}

/**
 * `changed(tag)` resolves each item to what the subscriber's token and arguments make of it,
 * counting the resolutions: a shared result must be one every sharer would have got.
 */
function schemaOver(source: ReturnType<typeof feed>) {
  const resolved = vi.fn();
  const Change = new GraphQLObjectType({
    name: 'Change',
    fields: { id: { type: new GraphQLNonNull(GraphQLID) }, seenBy: { type: GraphQLString }, tag: { type: GraphQLString } },
  });
  const schema = new GraphQLSchema({
    query: new GraphQLObjectType({ name: 'Query', fields: { ok: { type: GraphQLString } } }),
    subscription: new GraphQLObjectType({
      name: 'Subscription',
      fields: {
        changed: {
          type: new GraphQLNonNull(Change),
          args: { tag: { type: GraphQLString } },
          subscribe: () => liveIterator<{ id: string }>({}, (emit) => source.listen(emit)),
          resolve: (item: { id: string }, args: { tag?: string }, context: { principal: Principal }) => {
            resolved();
            return { id: item.id, seenBy: context.principal.tokenId, tag: args.tag ?? null };
          },
        },
      },
    }),
  });
  return { schema, resolved };
}

const token = (tokenId: string, scope: Principal['scope'] = 'READ'): Principal => ({ tokenId, tokenName: tokenId, scope });

async function subscriber(schema: GraphQLSchema, principal: Principal, query: string, variables?: Record<string, unknown>) {
  const result = await subscribeSharingResults({ schema, document: parse(query), contextValue: { principal }, variableValues: variables });
  if (!(Symbol.asyncIterator in result)) throw new Error(`no stream: ${JSON.stringify(result)}`);
  return result as AsyncGenerator<ExecutionResult, void, void>;
}

const QUERY = 'subscription($tag: String) { changed(tag: $tag) { id seenBy tag } }';

describe('subscribeSharingResults', () => {
  it('resolves an item once for the subscribers with the same token, operation and variables', async () => {
    const source = feed();
    const { schema, resolved } = schemaOver(source);
    const subscribers = await Promise.all([1, 2, 3].map(() => subscriber(schema, token('t1'), QUERY, { tag: 'a' })));
    const firsts = subscribers.map((s) => s.next());
    await vi.waitFor(() => expect(source.listeners.size).toBe(3));
    source.send({ id: 'x1' });
    source.send({ id: 'x2' });
    const results = [...(await Promise.all(firsts)), ...(await Promise.all(subscribers.map((s) => s.next())))];
    expect(results.map((r) => r.value)).toEqual([
      ...[1, 2, 3].map(() => ({ data: { changed: { id: 'x1', seenBy: 't1', tag: 'a' } } })),
      ...[1, 2, 3].map(() => ({ data: { changed: { id: 'x2', seenBy: 't1', tag: 'a' } } })),
    ]);
    expect(resolved).toHaveBeenCalledTimes(2);
    await Promise.all(subscribers.map((s) => s.return()));
    expect(source.listeners.size).toBe(0);
  });

  it('never hands one token the result resolved for another, nor one set of variables the result of another', async () => {
    const source = feed();
    const { schema, resolved } = schemaOver(source);
    const subscribers = [
      await subscriber(schema, token('t1'), QUERY, { tag: 'a' }),
      await subscriber(schema, token('t2'), QUERY, { tag: 'a' }),
      // The same token id with another scope is another principal.
      await subscriber(schema, token('t1', 'ADMIN'), QUERY, { tag: 'a' }),
      await subscriber(schema, token('t1'), QUERY, { tag: 'b' }),
      await subscriber(schema, token('t1'), 'subscription { changed(tag: "a") { id seenBy tag } }'),
    ];
    const firsts = subscribers.map((s) => s.next());
    await vi.waitFor(() => expect(source.listeners.size).toBe(5));
    source.send({ id: 'x1' });
    const seen = (await Promise.all(firsts)).map((r) => (r.value as ExecutionResult<{ changed: unknown }>).data?.changed);
    expect(seen).toEqual([
      { id: 'x1', seenBy: 't1', tag: 'a' },
      { id: 'x1', seenBy: 't2', tag: 'a' },
      { id: 'x1', seenBy: 't1', tag: 'a' },
      { id: 'x1', seenBy: 't1', tag: 'b' },
      { id: 'x1', seenBy: 't1', tag: 'a' },
    ]);
    expect(resolved).toHaveBeenCalledTimes(5);
    await Promise.all(subscribers.map((s) => s.return()));
  });

  it('resolves separately equal items that are different objects (a replay reads its own from storage)', async () => {
    const source = feed();
    const { schema, resolved } = schemaOver(source);
    const subscribers = [await subscriber(schema, token('t1'), QUERY), await subscriber(schema, token('t1'), QUERY)];
    const firsts = subscribers.map((s) => s.next());
    await vi.waitFor(() => expect(source.listeners.size).toBe(2));
    source.send({ id: 'x1' });
    source.send({ id: 'x1' });
    await Promise.all(firsts);
    await Promise.all(subscribers.map((s) => s.next()));
    expect(resolved).toHaveBeenCalledTimes(2);
    await Promise.all(subscribers.map((s) => s.return()));
  });

  it('answers an operation that cannot subscribe with its errors, as graphql does', async () => {
    const { schema } = schemaOver(feed());
    const result = await subscribeSharingResults({ schema, document: parse('subscription { changed(tag: 1) { id } }'), contextValue: { principal: token('t1') } });
    expect(Symbol.asyncIterator in result).toBe(false);
    expect((result as ExecutionResult).errors?.length).toBeGreaterThan(0);
  });
});
