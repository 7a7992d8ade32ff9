import { existsSync, readFileSync } from 'node:fs';

/** The package version, for `User-Agent: Hookyard/<version>`; found from src/ (tests) or dist/src/. */
function readVersion(): string {
  for (const relative of ['../package.json', '../../package.json']) {
    const url = new URL(relative, import.meta.url);
    if (existsSync(url)) {
      const pkg = JSON.parse(readFileSync(url, 'utf8')) as { name?: string; version: string };
      if (pkg.name === 'hookyard') return pkg.version;
    }
  }
  return '0.0.0';
}

export const VERSION: string = readVersion();
