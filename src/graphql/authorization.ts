import type { MiddlewareFn } from 'type-graphql';
import { AppError } from '../errors.js';
import type { GraphQLContext } from './context.js';

/**
 * A READ token may query and subscribe but never mutate. Checked on every root mutation field,
 * over HTTP and websockets alike, so a new mutation cannot forget it.
 */
export const readTokensCannotMutate: MiddlewareFn<GraphQLContext> = async ({ info, context }, next) => {
  if (info.parentType.name === 'Mutation' && context.principal.scope !== 'ADMIN') {
    throw new AppError('FORBIDDEN', `${info.fieldName} needs an ADMIN token; this token is READ`);
  }
  return next();
};

/** For fields only ADMIN tokens may read (`auditLog`): a READ token gets FORBIDDEN. */
export const adminOnly: MiddlewareFn<GraphQLContext> = async ({ info, context }, next) => {
  if (context.principal.scope !== 'ADMIN') {
    throw new AppError('FORBIDDEN', `${info.fieldName} needs an ADMIN token; this token is READ`);
  }
  return next();
};
