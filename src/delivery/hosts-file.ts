import { readFile, stat } from 'node:fs/promises';
import { isIP } from 'node:net';
import type { ResolvedAddress } from './ssrf-guard.js';

/** Where the OS keeps static names; the resolver reads it first, as `hosts: files dns` does. */
export const HOSTS_FILE = '/etc/hosts';

/**
 * Parses a hosts file: `address name [aliases…]` per line, `#` to the end of a line is a
 * comment, names are case-insensitive. A name on several lines gets every address, in file
 * order. Lines that do not start with an IP address are skipped, as getaddrinfo skips them.
 * Our own 20 lines rather than a package: the format is this small, and the packages that read
 * it also write it (hostile) or resolve through it with dns.lookup.
 */
export function parseHosts(text: string): Map<string, ResolvedAddress[]> {
  const names = new Map<string, ResolvedAddress[]>();
  for (const line of text.split(/\r?\n/)) {
    const [address, ...aliases] = line.replace(/#.*/, '').trim().split(/\s+/);
    const family = address ? isIP(address.replace(/%.*$/, '')) : 0;
    if (!address || family === 0) continue;
    for (const alias of aliases) {
      const name = alias.toLowerCase().replace(/\.$/, '');
      const list = names.get(name) ?? [];
      if (!list.some((entry) => entry.address === address)) list.push({ address, family: family === 6 ? 6 : 4 });
      names.set(name, list);
    }
  }
  return names;
}

/** The hosts file, read again when it changes (checked at most every `recheckMs`). */
export class HostsFile {
  // The whole file, replaced on change: no lru-cache, as an evicted line would send its name to DNS.
  private names = new Map<string, ResolvedAddress[]>();
  private mtimeMs = -1;
  private checkedAt = 0;
  private loading: Promise<void> | undefined;

  constructor(
    private readonly file = HOSTS_FILE,
    private readonly recheckMs = 5_000,
  ) {}

  async lookup(hostname: string): Promise<ResolvedAddress[] | undefined> {
    if (Date.now() - this.checkedAt >= this.recheckMs) {
      this.loading ??= this.reload().finally(() => (this.loading = undefined));
      await this.loading;
    }
    return this.names.get(hostname.toLowerCase().replace(/\.$/, ''));
  }

  private async reload(): Promise<void> {
    this.checkedAt = Date.now();
    try {
      const { mtimeMs } = await stat(this.file);
      if (mtimeMs === this.mtimeMs) return;
      this.names = parseHosts(await readFile(this.file, 'utf8'));
      this.mtimeMs = mtimeMs;
    } catch {
      // No hosts file (some containers): names come from DNS alone.
      this.names = new Map();
      this.mtimeMs = -1;
    }
  }
}
