/**
 * Every error a client may see, in one registry: a stable code, its HTTP status and the
 * GraphQL `extensions.code`. Anything that is not an AppError is logged and masked.
 */
export const errorCodes = {
  BAD_REQUEST: { status: 400, graphql: 'BAD_USER_INPUT' },
  BAD_USER_INPUT: { status: 400, graphql: 'BAD_USER_INPUT' },
  INVALID_JSON: { status: 400, graphql: 'BAD_USER_INPUT' },
  MISSING_HEADER: { status: 400, graphql: 'BAD_USER_INPUT' },
  UNAUTHENTICATED: { status: 401, graphql: 'UNAUTHENTICATED' },
  INVALID_SIGNATURE: { status: 401, graphql: 'UNAUTHENTICATED' },
  MISSING_SIGNATURE: { status: 401, graphql: 'UNAUTHENTICATED' },
  MALFORMED_SIGNATURE: { status: 401, graphql: 'UNAUTHENTICATED' },
  SECRET_UNAVAILABLE: { status: 401, graphql: 'UNAUTHENTICATED' },
  INVALID_CREDENTIALS: { status: 401, graphql: 'UNAUTHENTICATED' },
  FORBIDDEN: { status: 403, graphql: 'FORBIDDEN' },
  ADDRESS_NOT_ALLOWED: { status: 403, graphql: 'FORBIDDEN' },
  NOT_FOUND: { status: 404, graphql: 'NOT_FOUND' },
  SOURCE_NOT_FOUND: { status: 404, graphql: 'NOT_FOUND' },
  METHOD_NOT_ALLOWED: { status: 405, graphql: 'BAD_REQUEST' },
  PAYLOAD_TOO_LARGE: { status: 413, graphql: 'BAD_USER_INPUT' },
  // A subscription sent by HTTP POST or GET: it needs a websocket (graphql-ws) on /graphql.
  SUBSCRIPTION_OVER_HTTP: { status: 400, graphql: 'SUBSCRIPTION_OVER_HTTP' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, graphql: 'BAD_USER_INPUT' },
  // GraphQL operation limits (src/graphql/operation-limits.ts): refused before any resolver runs.
  ALIAS_LIMIT: { status: 400, graphql: 'ALIAS_LIMIT' },
  DEPTH_LIMIT: { status: 400, graphql: 'DEPTH_LIMIT' },
  TOKEN_LIMIT: { status: 400, graphql: 'TOKEN_LIMIT' },
  DIRECTIVE_LIMIT: { status: 400, graphql: 'DIRECTIVE_LIMIT' },
  COST_LIMIT: { status: 400, graphql: 'COST_LIMIT' },
  RATE_LIMITED: { status: 429, graphql: 'RATE_LIMITED' },
  SUBSCRIPTION_LIMIT: { status: 429, graphql: 'SUBSCRIPTION_LIMIT' },
  INTERNAL: { status: 500, graphql: 'INTERNAL_SERVER_ERROR' },
  DATABASE_UNAVAILABLE: { status: 503, graphql: 'SERVICE_UNAVAILABLE' },
  // Ingest resources (body budget, accept queue) are full: retry later; not the sender's fault.
  INGEST_BUSY: { status: 503, graphql: 'SERVICE_UNAVAILABLE' },
  QUERY_TIMEOUT: { status: 503, graphql: 'QUERY_TIMEOUT' },
  // The process is not ready yet, or is shutting down: another replica (or a retry) will serve it.
  STARTING: { status: 503, graphql: 'SERVICE_UNAVAILABLE' },
  SHUTTING_DOWN: { status: 503, graphql: 'SERVICE_UNAVAILABLE' },
} as const;

export type ErrorCode = keyof typeof errorCodes;

export class AppError extends Error {
  readonly status: number;
  readonly graphqlCode: string;

  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'AppError';
    this.status = errorCodes[code].status;
    this.graphqlCode = errorCodes[code].graphql;
  }

  /**
   * What graphql-js copies into a GraphQLError it wraps this in: errors that reach a client
   * without Apollo's formatError (a subscription refused over graphql-ws) keep their code.
   */
  get extensions(): Record<string, unknown> {
    return { code: this.graphqlCode, ...this.details };
  }

  /** The one error body shape of the HTTP surface. */
  toBody(): { error: { code: ErrorCode; message: string } } {
    return { error: { code: this.code, message: this.message } };
  }
}
