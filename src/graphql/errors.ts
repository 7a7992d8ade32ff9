import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import { ArgumentValidationError } from 'type-graphql';
import { isDatabaseUnavailable, isStatementTimeout } from '../db/unavailable.js';
import { AppError } from '../errors.js';
import type { Logger } from '../log.js';

export function notFound(kind: string, id: string): never {
  throw new AppError('NOT_FOUND', `no ${kind} with id ${id}`, { field: 'id' });
}

/** Turns a unique-constraint violation on `constraint` into BAD_USER_INPUT naming `field`. */
export function uniqueViolation(constraint: string, field: string, message: string): (error: unknown) => never {
  return (error) => {
    const e = error as { code?: string; constraint?: string; message?: string };
    if (e.code === '23505' || (e.message ?? '').includes(constraint)) {
      if ((e.constraint ?? e.message ?? '').includes(constraint)) throw new AppError('BAD_USER_INPUT', `${field}: ${message}`, { field });
    }
    throw error;
  };
}

/**
 * Only deliberate errors reach a client as themselves: AppErrors with their registry code,
 * GraphQL's own validation errors, and argument coercion errors. Everything else is logged and
 * masked as INTERNAL_SERVER_ERROR, never a stack trace.
 */
export function formatError(log: Logger, limits: { statementTimeoutMs: number }): (formatted: GraphQLFormattedError, error: unknown) => GraphQLFormattedError {
  return (formatted, error) => {
    const original = asAppError(error instanceof GraphQLError ? error.originalError : error, limits);
    if (original instanceof AppError) {
      return { message: original.message, path: formatted.path, locations: formatted.locations, extensions: { code: original.graphqlCode, ...original.details } };
    }
    if (original instanceof ArgumentValidationError) {
      const first = original.extensions.validationErrors[0];
      const message = first ? `${first.property}: ${Object.values(first.constraints ?? {}).join(', ')}` : 'invalid input';
      return { message, path: formatted.path, locations: formatted.locations, extensions: { code: 'BAD_USER_INPUT', field: first?.property } };
    }
    const code = formatted.extensions?.code;
    if (typeof code === 'string' && code !== 'INTERNAL_SERVER_ERROR' && (original === undefined || original instanceof GraphQLError)) {
      const { stacktrace: _drop, ...extensions } = formatted.extensions ?? {};
      return { ...formatted, extensions };
    }
    log.error({ err: original ?? error, path: formatted.path }, 'GraphQL resolver failed');
    return { message: 'internal error', path: formatted.path, locations: formatted.locations, extensions: { code: 'INTERNAL_SERVER_ERROR' } };
  };
}

/** Database conditions a client can act on: a statement past the API's timeout, or no connection to be had. */
function asAppError(error: unknown, limits?: { statementTimeoutMs: number }): unknown {
  if (isStatementTimeout(error)) {
    return new AppError('QUERY_TIMEOUT', `the query took longer than ${limits?.statementTimeoutMs ?? 'the allowed'} ms (HOOKYARD_API_STATEMENT_TIMEOUT_MS) and was stopped; ask for less (a smaller first, a narrower filter)`);
  }
  if (isDatabaseUnavailable(error)) return new AppError('DATABASE_UNAVAILABLE', 'the database is busy or unavailable; retry shortly');
  return error;
}

/**
 * The `extensions.code` formatError gives the client for this error: what the audit log
 * records as a mutation's outcome.
 */
export function errorCode(error: unknown): string {
  const original = asAppError(error instanceof GraphQLError && error.originalError ? error.originalError : error);
  if (original instanceof AppError) return original.graphqlCode;
  if (original instanceof ArgumentValidationError) return 'BAD_USER_INPUT';
  const code = original instanceof GraphQLError ? original.extensions?.code : undefined;
  return typeof code === 'string' ? code : 'INTERNAL_SERVER_ERROR';
}
