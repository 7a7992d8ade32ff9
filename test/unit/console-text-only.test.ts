import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers/process.js';

// The console shows what attackers send: it writes text nodes only. The browser test proves it
// for the payloads it sends; this keeps the ways around it out of the source for every other one.
const FORBIDDEN = /dangerouslySetInnerHTML|\.innerHTML|\.outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function\(|\bstyle=\{/;

async function sources(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((entry) => entry.isFile() && /\.tsx?$/.test(entry.name) && !entry.parentPath.includes('generated'))
    .map((entry) => path.join(entry.parentPath, entry.name));
}

describe('the console source', () => {
  it('never writes HTML, evaluates code or sets inline styles', async () => {
    const files = await sources(path.join(REPO_ROOT, 'console/src'));
    expect(files.length).toBeGreaterThan(5);
    const offenders: string[] = [];
    for (const file of files) {
      (await readFile(file, 'utf8')).split('\n').forEach((line, index) => {
        if (FORBIDDEN.test(line)) offenders.push(`${path.relative(REPO_ROOT, file)}:${index + 1}: ${line.trim()}`);
      });
    }
    expect(offenders).toEqual([]);
  });
});
