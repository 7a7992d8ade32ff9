import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print } from 'graphql';

export interface GraphQLResult<T> {
  status: number;
  data?: T;
  errors?: { message: string; extensions?: { code?: string } }[];
}

/** Runs a codegen-typed document over HTTP, as any client would. */
export async function execute<T, V>(url: string, document: TypedDocumentNode<T, V>, variables?: V, token?: string): Promise<GraphQLResult<T>> {
  const response = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query: print(document), variables }),
  });
  const body = (await response.json()) as Omit<GraphQLResult<T>, 'status'>;
  return { status: response.status, ...body };
}

export interface RawGraphQLResult {
  status: number;
  /** The body as sent, for scans of what a caller sees. */
  text: string;
  // Untyped on purpose: tests of raw documents read whatever shape they asked for.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  data?: Record<string, any> | null;
  errors?: { message: string; extensions?: { code?: string; field?: string; [key: string]: unknown } }[];
}

/** Posts a plain query string (no codegen document), as a client would; the token defaults to none. */
export async function postGraphQL(url: string, query: string, variables: Record<string, unknown> = {}, token?: string, signal?: AbortSignal): Promise<RawGraphQLResult> {
  const response = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
    signal,
  });
  const text = await response.text();
  return { status: response.status, text, ...(JSON.parse(text) as Omit<RawGraphQLResult, 'status' | 'text'>) };
}
