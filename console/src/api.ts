import { createClient, type Client } from 'graphql-ws';
import type { TypedDocumentString } from './generated/graphql';

/** A failed operation, as a sentence for the page (and the API's code, to react on 401). */
export class ApiError extends Error {
  constructor(message: string, readonly code?: string) {
    super(message);
  }
}

interface GraphQLResponse<T> {
  data?: T | null;
  errors?: { message: string; extensions?: { code?: string } }[];
}

function errorOf(body: GraphQLResponse<unknown>, status: number): ApiError {
  const first = body.errors?.[0];
  if (first) return new ApiError(first.extensions?.code ? `${first.message} (${first.extensions.code})` : first.message, first.extensions?.code);
  return new ApiError(`the API answered HTTP ${status}`);
}

/** One query or mutation over HTTP with the session's token. */
export async function request<TResult, TVariables>(token: string, document: TypedDocumentString<TResult, TVariables>, variables?: TVariables): Promise<TResult> {
  let response: Response;
  try {
    response = await fetch('/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query: document.toString(), variables: variables ?? {} }),
    });
  } catch {
    throw new ApiError('Hookyard cannot be reached (is it running?)', 'NETWORK');
  }
  let body: GraphQLResponse<TResult>;
  try {
    body = (await response.json()) as GraphQLResponse<TResult>;
  } catch {
    throw new ApiError(`the API answered HTTP ${response.status} without JSON`);
  }
  if (body.errors?.length || !body.data) throw errorOf(body, response.status);
  return body.data;
}

/**
 * graphql-ws on the same origin and path; reconnects by itself, says when it (re)connected or
 * dropped, and gives up when the server refuses the token (4401) or revokes it (4403).
 */
export function liveClient(token: string, onConnected: () => void, onClosed: (reason: string) => void, onRefused: (reason: string) => void): Client {
  const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/graphql`;
  const client = createClient({
    url,
    connectionParams: { authorization: `Bearer ${token}` },
    // One socket for the whole session: views subscribe and unsubscribe without reconnecting.
    lazy: false,
    // Said through the `closed` listener below, not the console.
    onNonLazyError: () => undefined,
    retryAttempts: Infinity,
    shouldRetry: (event) => !(event && typeof event === 'object' && 'code' in event && (event.code === 4401 || event.code === 4403)),
  });
  client.on('connected', onConnected);
  client.on('closed', (event) => {
    const code = event && typeof event === 'object' && 'code' in event ? (event as CloseEvent).code : undefined;
    if (code === 4401 || code === 4403) onRefused('The token was refused or revoked: sign in again.');
    else onClosed('Live updates interrupted, reconnecting…');
  });
  return client;
}

/** Subscribes to one operation; returns the unsubscribe function. */
export function subscribe<TResult, TVariables>(
  client: Client, document: TypedDocumentString<TResult, TVariables>, variables: TVariables,
  next: (data: TResult) => void, fail: (error: ApiError) => void,
): () => void {
  return client.subscribe<TResult>({ query: document.toString(), variables: variables as Record<string, unknown> }, {
    next: (result) => {
      if (result.errors?.length) fail(errorOf(result as GraphQLResponse<unknown>, 200));
      else if (result.data) next(result.data);
    },
    error: (error) => fail(new ApiError(error instanceof Error ? error.message : 'the live subscription failed')),
    complete: () => undefined,
  });
}
