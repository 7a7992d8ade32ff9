import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

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

describe('docker-compose.yml', () => {
  const compose = parse(readFileSync(new URL('docker-compose.yml', root), 'utf8')) as {
    services: Record<string, { image?: string; build?: string; environment?: Record<string, string>; depends_on?: Record<string, { condition: string }>; ports?: string[] }>;
  };

  it('runs PostgreSQL and one Hookyard in role all against it', () => {
    const postgres = compose.services.postgres!;
    expect(postgres.image).toMatch(/^postgres:(1[4-9]|[2-9]\d)/);
    const hookyard = compose.services.hookyard!;
    expect(hookyard.build).toBe('.');
    expect(hookyard.environment!.HOOKYARD_ROLE).toBe('all');
    const databaseUrl = new URL(hookyard.environment!.DATABASE_URL!);
    expect(databaseUrl.hostname).toBe('postgres');
    expect(databaseUrl.username).toBe(postgres.image && (compose.services.postgres!.environment!.POSTGRES_USER));
    expect(hookyard.environment!.HOOKYARD_ENCRYPTION_KEY).toBeDefined();
    expect(hookyard.depends_on!.postgres!.condition).toBe('service_healthy');
    expect(hookyard.ports).toContain('3000:3000');
  });
});
