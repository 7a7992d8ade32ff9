import type { IncomingMessage, ServerResponse } from 'node:http';
import { HeaderMap, type ApolloServer } from '@apollo/server';
import { AppError } from '../errors.js';
import { refuseUnreadBody, sendJson } from '../wire/json-response.js';
import { readBody } from '../wire/read-body.js';
import type { AuthOutcome } from '../auth/authenticator.js';
import type { GraphQLContext } from '../graphql/context.js';

/** A GraphQL body must be smaller than this. */
const MAX_GRAPHQL_BODY = 1024 * 1024;

/** Read up to the limit; an announced length at the limit is refused before a byte is read. */
const BODY_CAP = { limit: MAX_GRAPHQL_BODY - 1, tooLarge: () => new AppError('PAYLOAD_TOO_LARGE', 'GraphQL request body must be smaller than 1 MiB') };

const NOT_JSON = 'GraphQL request body is not valid JSON';
class NotJson extends Error {}

/** The JSON body; an empty one is none (`undefined`). */
async function readJson(request: IncomingMessage): Promise<unknown> {
  const bytes = await readBody(request, BODY_CAP);
  if (bytes.length === 0) return undefined;
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new NotJson(NOT_JSON);
  }
}

const graphqlBody = (code: string, message: string) => ({ errors: [{ message, extensions: { code } }] });

export function graphqlError(response: ServerResponse, status: number, code: string, message: string, headers: Record<string, string> = {}): void {
  sendJson(response, status, graphqlBody(code, message), { 'content-type': 'application/json; charset=utf-8', ...headers });
}

/** The request's query text (GET `?query=`, or a POST body's `query`), when it is a string. */
function queryText(url: URL, body: unknown): string | undefined {
  const query = body === undefined ? url.searchParams.get('query') : (body as { query?: unknown } | null)?.query;
  return typeof query === 'string' ? query : undefined;
}

/** A refused authentication: 401, or 429 with `Retry-After` for an address that failed too often. */
export function refuseAuthentication(response: ServerResponse, outcome: Exclude<AuthOutcome, { ok: true }>): void {
  if (outcome.code === 'RATE_LIMITED') {
    graphqlError(response, 429, 'RATE_LIMITED', `too many failed authentications from this address; retry in ${outcome.retryAfterSeconds} s`, { 'retry-after': String(outcome.retryAfterSeconds) });
    return;
  }
  graphqlError(response, 401, 'UNAUTHENTICATED', 'a valid API token is required: Authorization: Bearer <token>', { 'www-authenticate': 'Bearer' });
}

/**
 * Apollo on plain `node:http` (the small handler STACK.md describes), for a caller that has
 * already authenticated. `refuse` sees the query text before Apollo parses it.
 */
export async function handleGraphQL(
  apollo: ApolloServer<GraphQLContext>,
  request: IncomingMessage,
  response: ServerResponse,
  url: URL,
  context: () => Promise<GraphQLContext>,
  refuse: (query: string) => AppError | undefined = () => undefined,
): Promise<void> {
  let body: unknown;
  try {
    body = request.method === 'POST' ? await readJson(request) : undefined;
  } catch (error) {
    if (error instanceof AppError && error.code === 'PAYLOAD_TOO_LARGE') {
      // The answer goes out with the rest of the body unread.
      refuseUnreadBody(request, response, 413, graphqlBody(error.graphqlCode, error.message));
      return;
    }
    // Not JSON, or the client went away mid-body (nobody to answer, if anyone is still there).
    graphqlError(response, 400, 'BAD_REQUEST', error instanceof NotJson ? NOT_JSON : 'GraphQL request body could not be read');
    return;
  }
  const query = queryText(url, body);
  const refusal = query === undefined ? undefined : refuse(query);
  if (refusal) {
    graphqlError(response, refusal.status, refusal.graphqlCode, refusal.message);
    return;
  }
  const headers = new HeaderMap();
  for (const [name, value] of Object.entries(request.headers)) {
    if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(', ') : value);
  }
  const result = await apollo.executeHTTPGraphQLRequest({
    httpGraphQLRequest: { method: request.method ?? 'GET', headers, search: url.search, body },
    context,
  });
  for (const [name, value] of result.headers) response.setHeader(name, value);
  response.statusCode = result.status ?? 200;
  if (result.body.kind === 'complete') {
    response.end(result.body.string);
    return;
  }
  for await (const chunk of result.body.asyncIterator) response.write(chunk);
  response.end();
}
