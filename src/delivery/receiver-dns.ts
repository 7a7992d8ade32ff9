import { promises as dns } from 'node:dns';
import { LRUCache } from 'lru-cache';
import { HostsFile } from './hosts-file.js';
import type { ResolvedAddress, Resolver } from './ssrf-guard.js';

export interface ReceiverDnsOptions {
  /** Per query; c-ares gives up then (one try). */
  timeoutMs: number;
  /** DNS servers (`ip` or `ip:port`); the system's (/etc/resolv.conf) otherwise. */
  servers?: string[];
  hostsFile?: HostsFile;
  /** Names kept (default 1000). */
  cacheSize?: number;
}

/** Answers are kept for their DNS TTL within these bounds. */
const MIN_TTL_MS = 1_000;
const MAX_TTL_MS = 300_000;

/** Shaped like Node's getaddrinfo errors, so a failed query is classed DNS, never a connection error. */
function dnsError(code: 'EAI_AGAIN' | 'ENOTFOUND', hostname: string, message: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${message} ${hostname}`), { code, syscall: 'queryA', hostname });
}

/**
 * Receivers' names resolved without libuv's thread pool: `dns.lookup` runs getaddrinfo on one
 * of its 4 threads, so a few black-holed names would block every other lookup, file read and
 * new database connection. This asks c-ares (A and AAAA, on the event loop) with a timeout,
 * after the hosts file, which it would not read. Answers are cached for their TTL; concurrent
 * queries for one name share one answer.
 */
export class ReceiverDns {
  private readonly resolver: dns.Resolver;
  private readonly hosts: HostsFile;
  private readonly cache: LRUCache<string, ResolvedAddress[]>;

  constructor(options: ReceiverDnsOptions) {
    this.resolver = new dns.Resolver({ timeout: options.timeoutMs, tries: 1 });
    if (options.servers) this.resolver.setServers(options.servers);
    this.hosts = options.hostsFile ?? new HostsFile();
    this.cache = new LRUCache<string, ResolvedAddress[]>({
      max: options.cacheSize ?? 1000,
      ttl: MAX_TTL_MS,
      fetchMethod: async (hostname, _stale, { options: entry }) => {
        const { addresses, ttlSeconds } = await this.query(hostname);
        entry.ttl = Math.min(MAX_TTL_MS, Math.max(MIN_TTL_MS, ttlSeconds * 1000));
        return addresses;
      },
    });
  }

  readonly resolve: Resolver = async (hostname) => {
    const name = hostname.toLowerCase().replace(/\.$/, '');
    const fromHosts = await this.hosts.lookup(name);
    if (fromHosts) return fromHosts;
    return (await this.cache.fetch(name))!;
  };

  private async query(hostname: string): Promise<{ addresses: ResolvedAddress[]; ttlSeconds: number }> {
    const [v4, v6] = await Promise.allSettled([this.resolver.resolve4(hostname, { ttl: true }), this.resolver.resolve6(hostname, { ttl: true })]);
    const addresses: ResolvedAddress[] = [];
    let ttlSeconds = Infinity;
    // IPv4 first: a worker without IPv6 connectivity still reaches a dual-stack receiver.
    for (const [answer, family] of [[v4, 4], [v6, 6]] as const) {
      if (answer.status !== 'fulfilled') continue;
      for (const record of answer.value) {
        addresses.push({ address: record.address, family });
        ttlSeconds = Math.min(ttlSeconds, record.ttl);
      }
    }
    if (addresses.length > 0) return { addresses, ttlSeconds: Number.isFinite(ttlSeconds) ? ttlSeconds : 0 };
    const codes = [v4, v6].map((answer) => (answer.status === 'rejected' ? (answer.reason as NodeJS.ErrnoException).code : undefined));
    if (codes.some((code) => code === 'ETIMEOUT' || code === 'ECONNREFUSED' || code === 'ESERVFAIL')) {
      throw dnsError('EAI_AGAIN', hostname, 'DNS lookup failed or timed out for');
    }
    throw dnsError('ENOTFOUND', hostname, 'no addresses for');
  }
}
