import 'reflect-metadata';
import { lexicographicSortSchema, printSchema, type GraphQLSchema } from 'graphql';
import { createPubSub } from '@graphql-yoga/subscription';
import { buildSchema } from 'type-graphql';
import type { Logger } from '../log.js';
import { auditMutations } from './audit.js';
import { scopeAllowsField } from './authorization.js';
import { ApiTokenResolver } from './resolvers/api-token-resolver.js';
import { AttemptResolver } from './resolvers/attempt-resolver.js';
import { AuditLogResolver } from './resolvers/audit-log-resolver.js';
import { DeliveryResolver } from './resolvers/delivery-resolver.js';
import { EventResolver } from './resolvers/event-resolver.js';
import { LiveResolver } from './resolvers/live-resolver.js';
import { RejectedRequestResolver } from './resolvers/rejected-request-resolver.js';
import { RelayResolver } from './resolvers/relay-resolver.js';
import { SourceResolver } from './resolvers/source-resolver.js';
import { StatsResolver } from './resolvers/stats-resolver.js';
import { SubscriptionResolver } from './resolvers/subscription-resolver.js';
import { ViewerResolver } from './resolvers/viewer-resolver.js';

/**
 * Code-first: the committed `schema.graphql` is printed from this and a test fails on drift.
 * Input validation is explicit in `inputs/` (each failure names its field): type-graphql's
 * class-validator integration stays off (and the package is not installed). `log` receives audit-log write failures; without it (printing the schema) such a
 * failure fails the mutation.
 */
export function buildHookyardSchema(options: { log?: Logger } = {}): Promise<GraphQLSchema> {
  return buildSchema({
    resolvers: [
      SourceResolver, RelayResolver, SubscriptionResolver, EventResolver, DeliveryResolver, AttemptResolver,
      RejectedRequestResolver, ApiTokenResolver, StatsResolver, LiveResolver, AuditLogResolver, ViewerResolver,
    ],
    // The audit wraps the scope check, so a READ token's refused mutation is recorded too.
    globalMiddlewares: [auditMutations(options.log), scopeAllowsField],
    // Subscriptions bring their own iterators (live/delivery-feed.ts); type-graphql still
    // insists on a PubSub being present.
    pubSub: createPubSub(),
    validate: false,
  });
}

export function printHookyardSchema(schema: GraphQLSchema): string {
  return `${printSchema(lexicographicSortSchema(schema))}\n`;
}
