/**
 * `npm run bench:readme`: rewrites the README's "What it costs to run" figures from
 * bench/results/latest.json (a full run), as test/unit/readme-cost.test.ts expects them.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { costSection, withCostSection, type CostInputs } from '../cost-section.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const results = JSON.parse(await readFile(`${root}bench/results/latest.json`, 'utf8')) as CostInputs;
if (results.mode !== 'full' || !results.cost) throw new Error('bench/results/latest.json is not a full run with the cost section: run `npm run bench` first');
const readme = await readFile(`${root}README.md`, 'utf8');
await writeFile(`${root}README.md`, withCostSection(readme, costSection(results)));
process.stdout.write(`README.md: cost section from the run of ${results.at}\n`);
