import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadConfig, settings } from '../../src/config.js';
import { healthRoutes } from '../../src/http/health.js';

/** No Docker engine here: the files are checked by reading them as Docker would. */
const root = new URL('../../', import.meta.url);

interface Instruction {
  stage: number;
  keyword: string;
  args: string;
}

function dockerfile(): Instruction[] {
  const text = readFileSync(new URL('Dockerfile', root), 'utf8').replace(/\\\n/g, ' ');
  let stage = -1;
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'))
    .map((line) => {
      const [keyword, ...rest] = line.split(/\s+/);
      if (keyword!.toUpperCase() === 'FROM') stage++;
      return { stage, keyword: keyword!.toUpperCase(), args: rest.join(' ') };
    });
}

describe('Dockerfile', () => {
  const instructions = dockerfile();
  const final = instructions.filter((i) => i.stage === Math.max(...instructions.map((x) => x.stage)));

  it('builds on Node 24 with npm ci and the TypeScript build', () => {
    const froms = instructions.filter((i) => i.keyword === 'FROM');
    expect(froms.length).toBeGreaterThan(0);
    for (const from of froms) expect(from.args).toMatch(/^node:24[.\-]/);
    const runs = instructions.filter((i) => i.keyword === 'RUN').map((i) => i.args);
    expect(runs.some((r) => /\bnpm ci\b/.test(r))).toBe(true);
    expect(runs.some((r) => /\bnpm run build\b/.test(r))).toBe(true);
  });

  it('runs the compiled entry point as a non-root user', () => {
    const user = final.filter((i) => i.keyword === 'USER').at(-1);
    expect(user).toBeDefined();
    expect(user!.args).not.toMatch(/^(root|0)(:|$)/);
    const cmd = final.filter((i) => i.keyword === 'CMD').at(-1);
    // Exactly what `npm start` runs, its V8 flags included.
    const start = (JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as { scripts: { start: string } }).scripts.start;
    expect(JSON.parse(cmd!.args)).toEqual(start.split(' '));
    expect(JSON.parse(cmd!.args).at(-1)).toBe('dist/src/main.js');
    expect(final.some((i) => i.keyword === 'EXPOSE' && i.args === '3000')).toBe(true);
  });

  it('copies only files the repository has', () => {
    for (const copy of instructions.filter((i) => i.keyword === 'COPY' && !i.args.startsWith('--from'))) {
      const sources = copy.args.split(/\s+/).slice(0, -1);
      for (const source of sources) expect(() => readFileSync(new URL(source, root))).not.toThrow(/ENOENT/);
    }
  });
});

interface Service {
  image?: string;
  build?: string;
  volumes?: string[];
  environment?: Record<string, string>;
  healthcheck?: { test: string[]; interval?: string; retries?: number };
  depends_on?: Record<string, { condition: string }>;
  ports?: string[];
  networks?: Record<string, { ipv4_address?: string } | null>;
}

describe('docker-compose.yml', () => {
  // Compose reads YAML 1.1 merge keys (`<<: *anchor`), so the parse honours them too.
  const compose = parse(readFileSync(new URL('docker-compose.yml', root), 'utf8'), { merge: true }) as { services: Record<string, Service> };
  const services = compose.services;
  const hookyards = Object.entries(services).filter(([, s]) => s.image === 'hookyard:local');
  const known = new Set(Object.values(settings).map((s) => s.env));

  /** Compose's interpolation of `${VAR}`, `${VAR:-default}` and `${VAR:?error}` against `env`. */
  const interpolate = (value: string, env: Record<string, string>) =>
    value.replace(/\$\{([A-Z_][A-Z0-9_]*)(?::([-?])([^}]*))?\}/g, (_all, name: string, kind?: string, rest?: string) => {
      const set = env[name];
      if (set !== undefined && set !== '') return set;
      if (kind === '?') throw new Error(`${name}: ${rest}`);
      return kind === '-' ? rest! : '';
    });

  it('runs PostgreSQL, two API replicas behind a proxy, and two workers, all from one image', () => {
    expect(services.postgres!.image).toMatch(/^postgres:(1[4-9]|[2-9]\d)/);
    const roles = Object.fromEntries(hookyards.map(([name, s]) => [name, s.environment!.HOOKYARD_ROLE]));
    expect(roles).toEqual({ 'api-1': 'api', 'api-2': 'api', 'worker-1': 'worker', 'worker-2': 'worker' });
    for (const [, s] of hookyards) expect(s.build).toBe('.');
    // Only the proxy is published, and it forwards to both replicas on the port they listen on.
    const proxy = services.proxy!;
    expect(proxy.ports).toEqual(['3000:3000']);
    for (const [name, s] of Object.entries(services)) if (name !== 'proxy') expect(s.ports, name).toBeUndefined();
    // The image's default command runs /etc/caddy/Caddyfile: ours, mounted from deploy/.
    const mount = proxy.volumes!.find((v) => v.endsWith(':/etc/caddy/Caddyfile:ro'))!;
    const caddyfile = readFileSync(new URL(mount.split(':')[0]!, root), 'utf8');
    const proxied = caddyfile.match(/^\s*reverse_proxy ([^{]+)\{/m)![1]!.trim().split(/\s+/);
    // Traffic only to replicas whose readiness answers 200 (503 while starting or draining).
    expect(caddyfile).toMatch(/^\s*health_uri \/readyz$/m);
    expect(proxied.length).toBe(2);
    for (const replica of ['api-1', 'api-2']) {
      expect(proxied).toContain(`${replica}:${services[replica]!.environment!.PORT}`);
      // The replicas trust the proxy's X-Forwarded-For, and only the proxy's.
      expect(services[replica]!.environment!.HOOKYARD_TRUSTED_PROXIES).toBe(proxy.networks!.default!.ipv4_address);
    }
  });

  it('names only variables of the config schema, and each service\'s environment passes its validation', () => {
    const given = { HOOKYARD_ENCRYPTION_KEY: randomBytes(32).toString('base64') };
    for (const [name, s] of hookyards) {
      for (const variable of Object.keys(s.environment!)) expect(known.has(variable), `${name}: ${variable} is not in src/config.ts`).toBe(true);
      const env = Object.fromEntries(Object.entries(s.environment!).map(([k, v]) => [k, interpolate(String(v), given)]));
      const config = loadConfig(env);
      expect(config.role).toBe(s.environment!.HOOKYARD_ROLE);
      expect(config.nodeEnv).toBe('production');
      const databaseUrl = new URL(config.databaseUrl!);
      expect(databaseUrl.hostname).toBe('postgres');
      expect(databaseUrl.username).toBe(services.postgres!.environment!.POSTGRES_USER);
      expect(databaseUrl.pathname).toBe(`/${services.postgres!.environment!.POSTGRES_DB}`);
      // Without the key, compose refuses to start rather than let each process make its own.
      expect(() => interpolate(s.environment!.HOOKYARD_ENCRYPTION_KEY!, {})).toThrow(/HOOKYARD_ENCRYPTION_KEY/);
    }
  });

  it('checks every service\'s health on a route the app serves, and starts each after what it needs is healthy', () => {
    const served = healthRoutes(() => true).map((route) => route.path);
    for (const [name, s] of Object.entries(services)) {
      expect(s.healthcheck?.test, `${name} has a health check`).toBeDefined();
      if (name === 'postgres') continue;
      const url = s.healthcheck!.test.join(' ').match(/http:\/\/127\.0\.0\.1:(\d+)(\/\w+)/);
      expect(url, name).not.toBeNull();
      expect(url![2]).toBe('/readyz');
      expect(served.some((path) => path.test(url![2]!))).toBe(true);
      expect(url![1]).toBe(name === 'proxy' ? '3000' : s.environment!.PORT);
    }
    for (const [, s] of hookyards) expect(s.depends_on!.postgres!.condition).toBe('service_healthy');
    expect(Object.keys(services.proxy!.depends_on!).sort()).toEqual(['api-1', 'api-2']);
    for (const [name, s] of Object.entries(services)) {
      for (const [dependency, { condition }] of Object.entries(s.depends_on ?? {})) {
        expect(condition, `${name} → ${dependency}`).toBe('service_healthy');
        expect(services[dependency]?.healthcheck, `${dependency} has a health check`).toBeDefined();
      }
    }
  });
});
