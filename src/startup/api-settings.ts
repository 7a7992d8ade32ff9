import type { Config } from '../config.js';
import type { GraphQLRouteSettings } from '../http/graphql-route.js';
import type { ServerLimits } from '../http/server.js';
import type { WsLimits } from '../http/ws-server.js';
import type { OperationLimitsSettings } from '../graphql/operation-limits.js';

/** Sandbox and introspection are on in development, off in production unless turned on. */
const inDevelopment = (config: Pick<Config, 'nodeEnv'>) => config.nodeEnv !== 'production';

/** The configuration as each piece of the API reads it: the pieces know nothing of config.ts. */
export function serverLimits(config: Config): ServerLimits {
  return { headersTimeoutMs: config.httpHeadersTimeoutMs, requestTimeoutMs: config.httpRequestTimeoutMs, maxConnections: config.httpMaxConnections };
}

export function graphqlRouteSettings(config: Config): GraphQLRouteSettings {
  return {
    sandbox: config.graphqlSandbox ?? inDevelopment(config),
    corsOrigins: config.corsOrigins,
    rateLimitPerSecond: config.apiRateLimitPerSecond,
    rateLimitBurst: config.apiRateLimitBurst,
    statementTimeoutMs: config.apiStatementTimeoutMs,
  };
}

export function operationLimitsSettings(config: Config): OperationLimitsSettings {
  return {
    introspection: config.graphqlIntrospection ?? inDevelopment(config),
    maxAliases: config.graphqlMaxAliases,
    maxDepth: config.graphqlMaxDepth,
    maxTokens: config.graphqlMaxTokens,
    maxDirectives: config.graphqlMaxDirectives,
    maxCost: config.graphqlMaxCost,
  };
}

export function wsLimits(config: Config): WsLimits {
  return {
    maxPayloadBytes: config.wsMaxPayloadBytes, socketsPerAddress: config.wsSocketsPerAddress, subscriptionsPerSocket: config.wsSubscriptionsPerSocket,
    subscriptionsPerToken: config.wsSubscriptionsPerToken, maxBufferedBytes: config.wsMaxBufferedBytes, tokenRecheckMs: config.wsTokenRecheckSeconds * 1000,
  };
}
