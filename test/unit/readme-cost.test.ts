import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { COST_BEGIN, COST_END, costSection, type CostInputs } from '../../bench/cost-section.js';
import { REPO_ROOT } from '../helpers/process.js';

/** The README's "What it costs to run" is the last full benchmark's figures, never figures of its own. */
describe('README cost section', () => {
  it('is computed from bench/results/latest.json', async () => {
    const results = JSON.parse(await readFile(path.join(REPO_ROOT, 'bench/results/latest.json'), 'utf8')) as CostInputs;
    expect(results.mode).toBe('full');
    const readme = await readFile(path.join(REPO_ROOT, 'README.md'), 'utf8');
    const begin = readme.indexOf(COST_BEGIN);
    const end = readme.indexOf(COST_END);
    expect(begin, 'the section\'s opening marker').toBeGreaterThanOrEqual(0);
    expect(readme.slice(begin, end + COST_END.length)).toBe(costSection(results));
  });
});
