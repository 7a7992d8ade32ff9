// Creates a relay for every event type and prints its deliveries live. Run with Node 24
// (it runs TypeScript as is) after `npm run codegen`:
//   HOOKYARD_TOKEN=... RECEIVER_URL=https://example.com/hooks npx node examples/follow-deliveries.ts
import { print } from 'graphql';
import { GraphQLClient } from 'graphql-request';
import { createClient } from 'graphql-ws';
import { CreateRelayDocument, FollowDeliveriesDocument, SubscribeDocument, type FollowDeliveriesSubscription } from './generated/graphql.ts';

const url = process.env.HOOKYARD_URL ?? 'http://localhost:3000';
const authorization = `Bearer ${process.env.HOOKYARD_TOKEN}`;
const api = new GraphQLClient(`${url}/graphql`, { headers: { authorization } });

// Typed end to end: the variables and the answer's shape come from schema.graphql.
const { createRelay } = await api.request(CreateRelayDocument, { input: { name: 'example', url: process.env.RECEIVER_URL! } });
await api.request(SubscribeDocument, { input: { relayId: createRelay.relay.id, eventTypes: ['*'] } });
console.log(`relay ${createRelay.relay.id} (signing secret ${createRelay.signingSecret})`);

// Every status its deliveries pass through, pushed over graphql-ws as it happens.
const live = createClient({ url: `${url.replace(/^http/, 'ws')}/graphql`, connectionParams: { authorization } });
const feed = live.iterate<FollowDeliveriesSubscription>({ query: print(FollowDeliveriesDocument), variables: { filter: { relayId: createRelay.relay.id } } });
for await (const { data, errors } of feed) {
  if (errors) throw new Error(errors.map((e) => e.message).join('; '));
  const d = data!.deliveryUpdated;
  console.log(`${d.status} ${d.event.type} delivery ${d.id} (attempts: ${d.attemptCount})`);
}
