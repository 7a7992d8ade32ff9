import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * `npm run test:chaos` only (vitest.config.ts adds it when HOOKYARD_CHAOS=full): starts a fresh
 * results file that each scenario adds its figures to, and prints them as a table at the end.
 */
const RESULTS_FILE = fileURLToPath(new URL('./results/latest.json', import.meta.url));

interface Check {
  name: string;
  expected: string;
  actual: unknown;
  pass: boolean;
}

export default async function setup(): Promise<() => Promise<void>> {
  await mkdir(path.dirname(RESULTS_FILE), { recursive: true });
  const machine = { cpus: cpus().length, cpu: cpus()[0]?.model ?? 'unknown', memory_gib: Math.round(totalmem() / 2 ** 30), node: process.version };
  await writeFile(RESULTS_FILE, `${JSON.stringify({ mode: 'full', at: new Date().toISOString(), machine, scenarios: {} }, null, 2)}\n`);
  return async () => {
    const results = JSON.parse(await readFile(RESULTS_FILE, 'utf8')) as { scenarios: Record<string, { seconds: number; figures: Record<string, unknown>; checks: Check[] }> };
    const rows: string[][] = [];
    for (const [name, scenario] of Object.entries(results.scenarios)) {
      rows.push([name, `${scenario.seconds} s`, '', '']);
      for (const [key, value] of Object.entries(scenario.figures)) rows.push(['', key, JSON.stringify(value), '']);
      for (const check of scenario.checks) rows.push(['', check.name, `${check.actual} (${check.expected})`, check.pass ? 'pass' : 'FAIL']);
    }
    const widths = [0, 1, 2, 3].map((i) => Math.max(...rows.map((row) => row[i]!.length), 6));
    const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
    process.stdout.write(`\n${line(['scenario', 'figure', 'value', 'check'])}\n${line(widths.map((w) => '-'.repeat(w)))}\n${rows.map(line).join('\n')}\n`);
    process.stdout.write(`chaos figures written to ${path.relative(process.cwd(), RESULTS_FILE)}\n`);
  };
}
