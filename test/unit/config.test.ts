import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { configTable, InvalidConfigError, loadConfig } from '../../src/config.js';
import { tracingWanted } from '../../src/startup/tracing.js';

describe('configuration', () => {
  it('has defaults for everything when the environment is empty', () => {
    const config = loadConfig({});
    expect(config.port).toBe(3000);
    expect(config.databaseUrl).toBeUndefined();
    expect(config.dataDir).toBe('.hookyard');
    expect(config.role).toBe('all');
    expect(config.dbPoolSize).toBe(10);
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('reports every bad variable at once, naming each', () => {
    try {
      loadConfig({ PORT: 'eighty', HOOKYARD_ROLE: 'boss', DATABASE_URL: 'mysql://x', HOOKYARD_ENCRYPTION_KEY: 'short', UNRELATED: 'ignored' });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidConfigError);
      const problems = (error as InvalidConfigError).problems.join('\n');
      expect(problems).toMatch(/^PORT /m);
      expect(problems).toMatch(/^HOOKYARD_ROLE /m);
      expect(problems).toMatch(/^DATABASE_URL /m);
      expect(problems).toMatch(/^HOOKYARD_ENCRYPTION_KEY /m);
      expect(problems).not.toMatch(/UNRELATED/);
    }
  });

  it('refuses production without an encryption key, and split roles without a shared database', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(/HOOKYARD_ENCRYPTION_KEY must be set/);
    expect(() => loadConfig({ HOOKYARD_ROLE: 'worker' })).toThrow(/DATABASE_URL must be set/);
  });

  it('accepts a key as base64 or hex', () => {
    expect(loadConfig({ HOOKYARD_ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64') }).encryptionKey).toBeDefined();
    expect(loadConfig({ HOOKYARD_ENCRYPTION_KEY: 'ab'.repeat(32) }).encryptionKey).toBeDefined();
  });

  it('takes CORS origins only as exact origins, and leaves sandbox and introspection to NODE_ENV unless set', () => {
    expect(loadConfig({ HOOKYARD_CORS_ORIGINS: 'https://a.example, http://localhost:5173' }).corsOrigins).toEqual(['https://a.example', 'http://localhost:5173']);
    for (const bad of ['*', 'https://a.example/', 'https://a.example/console', 'a.example']) {
      expect(() => loadConfig({ HOOKYARD_CORS_ORIGINS: bad }), bad).toThrow(/HOOKYARD_CORS_ORIGINS/);
    }
    expect(loadConfig({}).graphqlSandbox).toBeUndefined();
    expect(loadConfig({ HOOKYARD_GRAPHQL_INTROSPECTION: 'true' }).graphqlIntrospection).toBe(true);
  });

  it('honours LOG_LEVEL, and stops the start naming it when it is not a pino level', () => {
    expect(loadConfig({}).logLevel).toBe('info');
    expect(loadConfig({ LOG_LEVEL: 'debug' }).logLevel).toBe('debug');
    for (const bad of ['verbose', 'INFO', 'warning', '30']) expect(() => loadConfig({ LOG_LEVEL: bad }), bad).toThrow(/^ {2}- LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent/m);
  });

  it('turns traces on with either OTLP endpoint, unless the SDK is disabled, and checks the OTEL_ variables it documents', () => {
    expect(tracingWanted(loadConfig({}))).toBe(false);
    expect(tracingWanted(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }))).toBe(true);
    expect(tracingWanted(loadConfig({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://collector:4318/v1/traces' }))).toBe(true);
    expect(tracingWanted(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_SDK_DISABLED: 'true' }))).toBe(false);
    expect(loadConfig({}).otelServiceName).toBe('hookyard');
    for (const [name, bad] of [
      ['OTEL_EXPORTER_OTLP_ENDPOINT', 'collector:4318'], ['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', 'ftp://x'], ['OTEL_EXPORTER_OTLP_PROTOCOL', 'http'],
      ['OTEL_TRACES_SAMPLER', 'sometimes'], ['OTEL_TRACES_SAMPLER_ARG', '1.5'], ['OTEL_TRACES_SAMPLER_ARG', '-0.1'], ['OTEL_SDK_DISABLED', 'yes'],
    ] as const) {
      expect(() => loadConfig({ [name]: bad }), `${name}=${bad}`).toThrow(new RegExp(`- ${name} `));
    }
    expect(loadConfig({ OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.25' }).otelTracesSamplerArg).toBe(0.25);
  });

  it('is documented in the README by the table generated from the schema', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    expect(readme).toContain(configTable());
  });
});
