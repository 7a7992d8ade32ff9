import type { CodegenConfig } from '@graphql-codegen/cli';

/**
 * Typed documents, from the committed schema.graphql (`npm run codegen`): one output per set of
 * operations, each with its own documents (operation names may repeat between sets).
 */
const typed = { useTypeImports: true, enumsAsTypes: true, scalars: { DateTimeISO: 'string', JSON: 'unknown' } };

const config: CodegenConfig = {
  schema: 'schema.graphql',
  emitLegacyCommonJSImports: false,
  // The Docker build has the console's documents but not the tests': that entry is then empty.
  ignoreNoDocuments: true,
  generates: {
    // The operations the tests run (test/operations).
    'test/generated/': {
      documents: ['test/operations/**/*.graphql'],
      preset: 'client',
      presetConfig: { fragmentMasking: false },
      config: typed,
    },
    // The typed SDK: the documented example operations (examples/*.graphql) as typed documents
    // for any client that takes them (graphql-request, graphql-ws; examples/follow-deliveries.ts).
    'examples/generated/': {
      documents: ['examples/*.graphql'],
      preset: 'client',
      presetConfig: { fragmentMasking: false },
      config: typed,
    },
    // Every operation of the browser console, as plain strings (`documentMode: 'string'`), so the
    // console ships no GraphQL parser and its TypeScript (`npm run build`) fails when the schema
    // drifts from what it asks.
    'console/src/generated/': {
      documents: ['console/src/operations/**/*.graphql'],
      preset: 'client',
      presetConfig: { fragmentMasking: false },
      config: { ...typed, documentMode: 'string' },
    },
  },
};

export default config;
