import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';

/**
 * HOOKYARD_ALLOWED_PRIVATE_PROXIES: the private proxies a relay's `proxyUrl` may name, as
 * `host`, `host:port` (IPv6 in brackets) or a CIDR. Everything else private, loopback or
 * link-local is refused as a proxy, exactly as it is as a target.
 */
export interface AllowedProxies {
  /** `address` undefined: is the name (or literal) itself listed? */
  allows(host: string, port: string, address?: string): boolean;
}

type Entry = { kind: 'host'; host: string; port?: string } | { kind: 'cidr'; range: [ipaddr.IPv4 | ipaddr.IPv6, number] };

function parseEntry(raw: string): Entry {
  if (raw.includes('/')) return { kind: 'cidr', range: ipaddr.parseCIDR(raw) };
  const bracketed = /^\[([^\]]+)\](?::(\d{1,5}))?$/.exec(raw);
  if (bracketed) {
    if (isIP(bracketed[1]!) !== 6) throw new Error(`"${raw}" is not an IPv6 address in brackets`);
    return { kind: 'host', host: bracketed[1]!.toLowerCase(), port: bracketed[2] };
  }
  if (isIP(raw) === 6) return { kind: 'host', host: raw.toLowerCase() };
  const [host, port, extra] = raw.split(':');
  if (extra !== undefined || !host || !/^[A-Za-z0-9.-]+$/.test(host) || (port !== undefined && !/^\d{1,5}$/.test(port))) {
    throw new Error(`"${raw}" is not a host, host:port or CIDR`);
  }
  return { kind: 'host', host: host.toLowerCase().replace(/\.$/, ''), port };
}

/** Parses the list; throws naming the first bad entry (config.ts reports it). */
export function parseAllowedProxies(entries: readonly string[]): AllowedProxies {
  const parsed = entries.map(parseEntry);
  const inRange = (address: string, [net, bits]: [ipaddr.IPv4 | ipaddr.IPv6, number]) => {
    try {
      // `process` reads an IPv4-mapped IPv6 address as the IPv4 one.
      const ip = ipaddr.process(address);
      return ip.kind() === net.kind() && ip.match(net, bits);
    } catch {
      return false;
    }
  };
  return {
    allows(host, port, address) {
      const name = host.toLowerCase().replace(/^\[|\]$/g, '').replace(/\.$/, '');
      return parsed.some((entry) => {
        if (entry.kind === 'host') return entry.host === name && (entry.port === undefined || entry.port === port);
        const candidate = address ?? (isIP(name) ? name : undefined);
        return candidate !== undefined && inRange(candidate, entry.range);
      });
    },
  };
}
