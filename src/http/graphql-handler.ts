import type { IncomingMessage, ServerResponse } from 'node:http';
import { HeaderMap, type ApolloServer } from '@apollo/server';
import { AppError } from '../errors.js';
import { refuseUnreadBody } from './refuse-unread-body.js';
import type { AuthOutcome } from '../auth/authenticator.js';
import type { GraphQLContext } from '../graphql/context.js';

/** A GraphQL body must be smaller than this. */
const MAX_GRAPHQL_BODY = 1024 * 1024;
const TOO_LARGE = 'GraphQL request body must be smaller than 1 MiB';

class BodyRefusal extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

/**
 * The JSON body, read up to the limit. A body at the limit stops being read there (its
 * answer goes out with the rest unread: refuseUnreadBody); an announced length at the limit
 * is refused before a byte is read.
 */
function readJson(request: IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    if (Number(request.headers['content-length']) >= MAX_GRAPHQL_BODY) return reject(new BodyRefusal(413, TOO_LARGE));
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size >= MAX_GRAPHQL_BODY) {
        request.off('data', onData);
        reject(new BodyRefusal(413, TOO_LARGE));
        return;
      }
      chunks.push(chunk);
    };
    request.on('data', onData);
    request.on('end', () => {
      if (size >= MAX_GRAPHQL_BODY) return;
      if (size === 0) return resolve(undefined);
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      } catch {
        reject(new BodyRefusal(400, 'GraphQL request body is not valid JSON'));
      }
    });
    request.on('error', reject);
  });
}

const graphqlBody = (code: string, message: string) => JSON.stringify({ errors: [{ message, extensions: { code } }] });

export function graphqlError(response: ServerResponse, status: number, code: string, message: string, headers: Record<string, string> = {}): void {
  const body = graphqlBody(code, message);
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body), ...headers });
  response.end(body);
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
    if (!(error instanceof BodyRefusal)) {
      // The client went away mid-body: nobody to answer, if anyone is still there.
      graphqlError(response, 400, 'BAD_REQUEST', 'GraphQL request body could not be read');
      return;
    }
    if (error.status === 413) {
      const tooLarge = new AppError('PAYLOAD_TOO_LARGE', error.message);
      refuseUnreadBody(request, response, 413, graphqlBody(tooLarge.graphqlCode, tooLarge.message), {});
      return;
    }
    graphqlError(response, error.status, 'BAD_REQUEST', error.message);
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
