import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '../..');
const bin = path.join(root, 'node_modules/dependency-cruiser/bin/dependency-cruiser.mjs');

interface Violation {
  from: string;
  to: string;
  rule: { name: string };
  cycle?: { name: string }[];
}
interface CruiseResult {
  modules: { source: string }[];
  summary: { violations: Violation[] };
}

/** The rules of .dependency-cruiser.cjs (layers, circles, resolver to resolver) over src/. */
async function cruise(): Promise<CruiseResult> {
  const { stdout } = await promisify(execFile)(process.execPath, [bin, 'src', '--config', '.dependency-cruiser.cjs', '--output-type', 'json'], {
    cwd: root,
    maxBuffer: 64 * 1024 * 1024,
  });
  return JSON.parse(stdout) as CruiseResult;
}

const sourceFiles = (dir: string): string[] =>
  readdirSync(path.join(root, dir), { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? sourceFiles(`${dir}/${entry.name}`) : entry.name.endsWith('.ts') ? [`${dir}/${entry.name}`] : [],
  );

describe('structure of src/ (.dependency-cruiser.cjs)', () => {
  it('has no import circle and every import points down a layer or stays in its own', async () => {
    const result = await cruise();
    const explained = result.summary.violations.map((v) =>
      v.cycle ? `${v.rule.name}: ${v.from} → ${v.cycle.map((c) => c.name).join(' → ')}` : `${v.rule.name}: ${v.from} → ${v.to}`,
    );
    expect(explained).toEqual([]);
    // The check saw every file of src/: an exclude that swallowed a folder would pass silently.
    const cruised = new Set(result.modules.map((m) => m.source));
    expect(sourceFiles('src').filter((file) => !cruised.has(file))).toEqual([]);
  });
});
