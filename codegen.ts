import type { CodegenConfig } from '@graphql-codegen/cli';

const scalars = { DateTimeISO: 'string', JSON: 'unknown' };

/**
 * Typed documents from the committed schema.graphql (`npm run codegen`):
 * - test/operations → test/generated/: the operations the tests and the examples use;
 * - console/src/operations → console/src/generated/: every operation of the browser console,
 *   as plain strings (`documentMode: 'string'`), so the console ships no GraphQL parser and its
 *   TypeScript (`npm run build`) fails when the schema drifts from what it asks.
 */
const config: CodegenConfig = {
  schema: 'schema.graphql',
  emitLegacyCommonJSImports: false,
  // The Docker build has the console's documents but not the tests': that entry is then empty.
  ignoreNoDocuments: true,
  generates: {
    'test/generated/': {
      documents: ['test/operations/**/*.graphql'],
      preset: 'client',
      presetConfig: { fragmentMasking: false },
      config: { useTypeImports: true, enumsAsTypes: true, scalars },
    },
    'console/src/generated/': {
      documents: ['console/src/operations/**/*.graphql'],
      preset: 'client',
      presetConfig: { fragmentMasking: false },
      config: { useTypeImports: true, enumsAsTypes: true, scalars, documentMode: 'string' },
    },
  },
};

export default config;
