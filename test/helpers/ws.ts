import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print } from 'graphql';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';

export interface LiveSubscription<T> {
  results: T[];
  errors: unknown[];
  /** Resolves with the close code when the server closes the socket. */
  closed: Promise<number>;
  /** Resolves once the server acknowledged connection_init. */
  connected: Promise<void>;
  dispose(): Promise<void>;
}

/** A real graphql-ws client over a real socket, collecting every result. */
export function subscribe<T, V>(httpUrl: string, document: TypedDocumentNode<T, V>, variables: V, authorization: string | undefined): LiveSubscription<T> {
  let onClosed!: (code: number) => void;
  let onConnected!: () => void;
  const closed = new Promise<number>((resolve) => (onClosed = resolve));
  const connected = new Promise<void>((resolve) => (onConnected = resolve));
  const client: Client = createClient({
    url: `${httpUrl.replace(/^http/, 'ws')}/graphql`,
    webSocketImpl: WebSocket,
    connectionParams: authorization === undefined ? {} : { authorization },
    retryAttempts: 0,
    lazy: false,
    // The close is what the tests inspect; graphql-ws would otherwise log it to stderr.
    onNonLazyError: () => {},
    on: {
      connected: () => onConnected(),
      closed: (event) => onClosed((event as { code: number }).code),
    },
  });
  const results: T[] = [];
  const errors: unknown[] = [];
  client.subscribe<T>(
    { query: print(document), variables: variables as Record<string, unknown> },
    {
      next: (value) => (value.data ? results.push(value.data as T) : errors.push(value.errors)),
      error: (error) => errors.push(error),
      complete: () => {},
    },
  );
  return { results, errors, closed, connected, dispose: () => client.dispose() as Promise<void> };
}
