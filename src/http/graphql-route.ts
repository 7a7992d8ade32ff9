import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApolloServer, HeaderMap } from '@apollo/server';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { ApolloServerPluginLandingPageLocalDefault } from '@apollo/server/plugin/landingPage/default';
import type { GraphQLSchema } from 'graphql';
import type { AuthOutcome } from '../auth/authenticator.js';
import { AppError } from '../errors.js';
import type { Principal } from '../auth/principal.js';
import { operationScopePlugin, queryScopeRefusal } from '../graphql/authorization.js';
import type { GraphQLContext } from '../graphql/context.js';
import { formatError } from '../graphql/errors.js';
import type { OperationLimits } from '../graphql/operation-limits.js';
import { NoSubscriptionsOverHttp } from '../graphql/subscriptions-over-http.js';
import type { Logger } from '../log.js';
import { ApiRateLimit } from './api-rate-limit.js';
import { CorsPolicy } from './cors.js';
import { graphqlError, handleGraphQL, refuseAuthentication } from './graphql-handler.js';
import type { Route } from './server.js';

/** What the route reads from the configuration (startup/api-settings.ts maps it). */
export interface GraphQLRouteSettings {
  /** Apollo Sandbox (HTML, runs nothing) for a browser's GET of `/graphql`. */
  sandbox: boolean;
  /** Exact origins a browser may call from; none: no CORS headers at all. */
  corsOrigins: readonly string[];
  /** Requests per second per token, and the burst above it; 0 per second: no limit. */
  rateLimitPerSecond: number;
  rateLimitBurst: number;
  /** The API pool's statement timeout, named in a QUERY_TIMEOUT error. */
  statementTimeoutMs: number;
}

export interface GraphQLRouteOptions {
  schema: GraphQLSchema;
  limits: OperationLimits;
  settings: GraphQLRouteSettings;
  /** Resolves the request's `Authorization` header (and its address, for the failure throttle) to a principal or a refusal. */
  authenticate(request: IncomingMessage): Promise<AuthOutcome>;
  context(principal: Principal): GraphQLContext;
  log: Logger;
}

/** The landing page's context: Apollo asks for one only when it would execute, so never here. */
const runNothing = async (): Promise<never> => {
  throw new AppError('UNAUTHENTICATED', 'a valid API token is required: Authorization: Bearer <token>');
};

/**
 * `/graphql` over HTTP: CORS, the landing page, authentication, the per-token rate limit and
 * the token limit, in that order, then Apollo. Every execution is authenticated: the landing
 * page (Apollo Sandbox, when `settings.sandbox`) is only ever HTML
 * for a GET without `query`, asked of Apollo with a context that refuses, so even a request
 * Apollo would rather execute runs nothing without a token (STACK.md "Security traps").
 */
export async function startGraphQLRoute(options: GraphQLRouteOptions): Promise<{ route: Route; stop(): Promise<void> }> {
  const { settings, limits } = options;
  const { sandbox } = settings;
  const apollo = new ApolloServer<GraphQLContext>({
    schema: options.schema,
    introspection: limits.introspection,
    validationRules: [...limits.validationRules, NoSubscriptionsOverHttp],
    allowBatchedHttpRequests: false,
    includeStacktraceInErrorResponses: false,
    // main.ts owns signals: Apollo's own handler would race our ordered shutdown.
    stopOnTerminationSignals: false,
    // No ApolloServerPluginDrainHttpServer: the HTTP server drains before Apollo stops
    // (http/admission.ts), and Apollo's drain would cut open websockets without a close frame.
    plugins: [
      sandbox ? ApolloServerPluginLandingPageLocalDefault({ embed: true }) : ApolloServerPluginLandingPageDisabled(),
      ...limits.apolloPlugins,
      operationScopePlugin,
    ],
    formatError: formatError(options.log, { statementTimeoutMs: settings.statementTimeoutMs }),
  });
  await apollo.start();
  const cors = new CorsPolicy(settings.corsOrigins);
  const rateLimit = new ApiRateLimit(settings.rateLimitPerSecond, settings.rateLimitBurst);

  /** Apollo's landing page, when Apollo's own negotiation says this client prefers HTML. */
  async function landingPage(request: IncomingMessage, response: ServerResponse): Promise<boolean> {
    const accept = request.headers.accept ?? '';
    if (!accept.includes('text/html')) return false;
    const result = await apollo.executeHTTPGraphQLRequest({
      httpGraphQLRequest: { method: 'GET', headers: new HeaderMap([['accept', accept]]), search: '', body: undefined },
      context: runNothing,
    });
    if (!result.headers.get('content-type')?.startsWith('text/html') || result.body.kind !== 'complete') return false;
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    response.end(result.body.string);
    return true;
  }

  const route: Route = {
    path: /^\/graphql\/?$/,
    // OPTIONS: CORS preflights.
    methods: ['GET', 'POST', 'OPTIONS'],
    handler: async (request, response, url) => {
      if (cors.handle(request, response)) return;
      if (sandbox && request.method === 'GET' && !url.searchParams.has('query') && (await landingPage(request, response))) return;
      const auth = await options.authenticate(request);
      if (!auth.ok) {
        refuseAuthentication(response, auth);
        return;
      }
      const { principal } = auth;
      const limited = await rateLimit.take(principal);
      if (limited) {
        graphqlError(response, limited.status, limited.graphqlCode, limited.message, { 'retry-after': String(limited.details.retryAfter) });
        return;
      }
      await handleGraphQL(apollo, request, response, url, async () => options.context(principal), (query) => limits.tokenRefusal(query) ?? queryScopeRefusal(principal, query));
    },
  };
  return { route, stop: () => apollo.stop() };
}
