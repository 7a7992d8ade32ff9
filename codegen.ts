import type { CodegenConfig } from '@graphql-codegen/cli';

/**
 * Typed documents for the operations under test/operations (used by the tests and the
 * examples). `npm run codegen` regenerates test/generated/ from the committed schema.graphql.
 */
const config: CodegenConfig = {
  schema: 'schema.graphql',
  documents: ['test/operations/**/*.graphql'],
  emitLegacyCommonJSImports: false,
  generates: {
    'test/generated/': {
      preset: 'client',
      presetConfig: { fragmentMasking: false },
      config: { useTypeImports: true, enumsAsTypes: true, scalars: { DateTimeISO: 'string', JSON: 'unknown' } },
    },
  },
};

export default config;
