import type { ApolloServerPlugin } from '@apollo/server';
import { ApolloArmor } from '@escape.tech/graphql-armor';
import {
  GraphQLError, Lexer, NoSchemaIntrospectionCustomRule, parse, Source, specifiedRules, TokenKind, validate,
  type DocumentNode, type ExecutionArgs, type GraphQLSchema, type ValidationContext, type ValidationRule,
} from 'graphql';
import { AppError, type ErrorCode } from '../errors.js';
import { nulInputRefusal } from './nul-inputs.js';
import { operationCost } from './operation-cost.js';

/** The limits, as the composition root reads them from HOOKYARD_GRAPHQL_* (startup/api-settings.ts). */
export interface OperationLimitsSettings {
  /** Introspection and "did you mean" hints, which go together. */
  introspection: boolean;
  maxAliases: number;
  maxDepth: number;
  maxTokens: number;
  maxDirectives: number;
  maxCost: number;
}

/** Fields visited while estimating a cost: fragments spread into each other multiply quickly. */
const MAX_COST_NODES = 10_000;

/** The same mask as graphql-armor's block-field-suggestions (used over HTTP), for websockets. */
const SUGGESTION = /\s*Did you mean ".+"\?/g;

/**
 * A refusal as GraphQL carries it; the AppError inside gives formatError its registry code.
 * Its details (the `field` of a NUL refusal) go along: websockets send this error as it is.
 */
function limitError(error: AppError): GraphQLError {
  return new GraphQLError(error.message, { extensions: { code: error.graphqlCode, ...error.details }, originalError: error });
}

/** graphql-armor's onReject: report the refusal under our code (armor's own is BAD_USER_INPUT). */
const reportAs = (code: ErrorCode) => (context: ValidationContext | null, error: GraphQLError) =>
  context?.reportError(limitError(new AppError(code, error.message.replace(/^Syntax Error: /, ''))));

/**
 * Every limit an operation meets before any resolver runs, for HTTP (Apollo) and websockets
 * (graphql-ws) alike: tokens (before parsing), aliases, depth and directives (graphql-armor
 * validation rules), and a cost where `first` multiplies (graphql-query-complexity). Each
 * refusal carries its own code: TOKEN_LIMIT, ALIAS_LIMIT, DEPTH_LIMIT, DIRECTIVE_LIMIT,
 * COST_LIMIT. Introspection and "did you mean" hints go together (`settings.introspection`).
 * The same gate refuses a NUL in any input (BAD_USER_INPUT naming it, nul-inputs.ts), so no
 * resolver can hand one to PostgreSQL.
 */
export class OperationLimits {
  readonly introspection: boolean;
  /** graphql-armor's aliases, depth and directives rules: cached with the document by Apollo. */
  readonly validationRules: readonly ValidationRule[];
  /** Apollo only: armor's suggestion mask, and the cost (it depends on variables, so per request). */
  readonly apolloPlugins: readonly ApolloServerPlugin[];
  private readonly wsRules: readonly ValidationRule[];

  constructor(
    private readonly schema: GraphQLSchema,
    private readonly settings: OperationLimitsSettings,
  ) {
    this.introspection = settings.introspection;
    const armor = new ApolloArmor({
      maxAliases: { n: settings.maxAliases, propagateOnRejection: false, onReject: [reportAs('ALIAS_LIMIT')] },
      maxDepth: { n: settings.maxDepth, flattenFragments: true, propagateOnRejection: false, onReject: [reportAs('DEPTH_LIMIT')] },
      maxDirectives: { n: settings.maxDirectives, propagateOnRejection: false, onReject: [reportAs('DIRECTIVE_LIMIT')] },
      // Armor's Apollo token plugin throws in parsingDidStart, which Apollo answers with a 500:
      // tokens are counted before Apollo instead (tokenRefusal). Armor's cost knows no `first`.
      maxTokens: { enabled: false },
      costLimit: { enabled: false },
      blockFieldSuggestion: { enabled: !this.introspection },
    }).protect();
    this.validationRules = armor.validationRules;
    const limits = this;
    const cost: ApolloServerPlugin = {
      async requestDidStart() {
        return {
          async didResolveOperation({ document, request }) {
            const refusal = nulInputRefusal(limits.schema, document, request.variables) ?? limits.costRefusal(document, request.variables, request.operationName);
            // Thrown here, the error is the response (HTTP 400) and nothing executes.
            if (refusal) throw new GraphQLError(refusal.message, { extensions: { code: refusal.graphqlCode, http: { status: refusal.status } }, originalError: refusal });
          },
        };
      },
    };
    // Armor's declarations name Apollo's CommonJS types; the objects are plain hook objects.
    this.apolloPlugins = [...(armor.plugins as unknown as ApolloServerPlugin[]), cost];
    this.wsRules = [...specifiedRules, ...this.validationRules, ...(this.introspection ? [] : [NoSchemaIntrospectionCustomRule])];
  }

  /** TOKEN_LIMIT, counted with graphql's own lexer before anything parses the document. */
  tokenRefusal(query: string): AppError | undefined {
    const max = this.settings.maxTokens;
    const lexer = new Lexer(new Source(query));
    try {
      for (let tokens = 1; lexer.advance().kind !== TokenKind.EOF; tokens++) {
        if (tokens > max) return new AppError('TOKEN_LIMIT', `Token limit of ${max} exceeded.`);
      }
    } catch {
      // A syntax error: the parser reports it as such.
    }
    return undefined;
  }

  /** COST_LIMIT, from the document and its variables; undefined when within the budget. */
  costRefusal(document: DocumentNode, variables: Record<string, unknown> | undefined, operationName: string | undefined): AppError | undefined {
    const max = this.settings.maxCost;
    let cost: number | undefined;
    try {
      cost = operationCost(this.schema, document, variables, operationName, MAX_COST_NODES);
    } catch {
      return new AppError('COST_LIMIT', `Cost limit exceeded: more than ${MAX_COST_NODES} fields once fragments are spread.`);
    }
    if (cost === undefined || cost <= max) return undefined;
    return new AppError('COST_LIMIT', `Cost limit of ${max} exceeded, estimated ${cost}: ask for fewer rows (first), fewer bodies or fewer aliases.`);
  }

  /**
   * graphql-ws's onSubscribe: the same checks as over HTTP, then the execution arguments (so
   * graphql-ws does not parse and validate again), or the errors to send instead.
   */
  prepare(payload: { query: string; variables?: Record<string, unknown> | null; operationName?: string | null }): ExecutionArgs | GraphQLError[] {
    const tooLong = this.tokenRefusal(payload.query);
    if (tooLong) return [limitError(tooLong)];
    let document: DocumentNode;
    try {
      document = parse(payload.query);
    } catch (error) {
      return [error instanceof GraphQLError ? error : new GraphQLError('the query cannot be parsed')];
    }
    const invalid = validate(this.schema, document, this.wsRules);
    if (invalid.length > 0) return this.introspection ? [...invalid] : invalid.map((error) => withoutSuggestion(error));
    const variables = payload.variables ?? undefined;
    const operationName = payload.operationName ?? undefined;
    const nul = nulInputRefusal(this.schema, document, variables);
    if (nul) return [limitError(nul)];
    const tooCostly = this.costRefusal(document, variables, operationName);
    if (tooCostly) return [limitError(tooCostly)];
    return { schema: this.schema, document, variableValues: variables, operationName };
  }
}

function withoutSuggestion(error: GraphQLError): GraphQLError {
  return new GraphQLError(error.message.replace(SUGGESTION, ''), { nodes: error.nodes, extensions: error.extensions, originalError: error.originalError });
}
