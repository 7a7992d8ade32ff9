import ipaddr from 'ipaddr.js';

/** At most this many entries in a source's `allowedCidrs`. */
export const MAX_ALLOWED_CIDRS = 100;

type Range = [ipaddr.IPv4 | ipaddr.IPv6, number];

/** One entry: a CIDR (`198.51.100.0/24`, `2001:db8::/32`) or a single address. Returns why not, or the range. */
export function parseAllowedCidr(entry: string): Range | string {
  try {
    if (entry.includes('/')) return ipaddr.parseCIDR(entry);
    const address = ipaddr.parse(entry);
    return [address, address.kind() === 'ipv4' ? 32 : 128];
  } catch {
    return `"${entry.slice(0, 60)}" is not an address or CIDR such as 198.51.100.0/24 or 2001:db8::/32`;
  }
}

/**
 * A matcher for a source's allowed addresses; `null` (anyone) when the list is empty or unset.
 * IPv4-mapped IPv6 peers (`::ffff:198.51.100.7`) match IPv4 ranges, as ipaddr.process maps them.
 */
export function allowedAddressMatcher(entries: readonly string[] | null): ((address: string) => boolean) | null {
  if (!entries || entries.length === 0) return null;
  const ranges = entries.map(parseAllowedCidr).filter((r): r is Range => typeof r !== 'string');
  return (address) => {
    if (!ipaddr.isValid(address)) return false;
    const parsed = ipaddr.process(address);
    return ranges.some(([range, bits]) => range.kind() === parsed.kind() && parsed.match(range, bits));
  };
}
