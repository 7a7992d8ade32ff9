import ipaddr from 'ipaddr.js';

/** A dotted quad as the kernel writes it (no leading zeros, each part ≤ 255): already canonical. */
const DOTTED_QUAD = /^(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?:\.(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

/** The IPv4 address of a plain or IPv4-mapped dotted quad, found without ipaddr.js's parse (every ingest request asks twice). */
function plainIpv4(address: string): string | undefined {
  const v4 = address.startsWith('::ffff:') ? address.slice(7) : address;
  return DOTTED_QUAD.test(v4) ? v4 : undefined;
}

/** `::ffff:10.0.0.1` and `10.0.0.1` are one client (ipaddr.js's `process` maps the one to the other); not an address: as given. */
export function canonicalAddress(address: string): string {
  return plainIpv4(address) ?? (ipaddr.isValid(address) ? ipaddr.process(address).toString() : address);
}

/**
 * The key one client's address is counted under: an IPv4 address exactly (IPv4-mapped IPv6
 * included), an IPv6 address by its /64, which one host can fill at will. Behind a reverse
 * proxy this is the proxy's address: every client then shares one key.
 */
export function addressKey(remoteAddress: string | undefined): string {
  if (!remoteAddress) return 'unknown';
  const v4 = plainIpv4(remoteAddress);
  if (v4 !== undefined) return v4;
  if (!ipaddr.isValid(remoteAddress)) return 'unknown';
  const parsed = ipaddr.process(remoteAddress);
  if (parsed.kind() === 'ipv4') return parsed.toString();
  const parts = (parsed as ipaddr.IPv6).parts.slice(0, 4).map((part) => part.toString(16));
  return `${parts.join(':')}::/64`;
}
