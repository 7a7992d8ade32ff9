import ipaddr from 'ipaddr.js';

/**
 * The key one client's address is counted under: an IPv4 address exactly (IPv4-mapped IPv6
 * included), an IPv6 address by its /64, which one host can fill at will. Behind a reverse
 * proxy this is the proxy's address: every client then shares one key.
 */
export function addressKey(remoteAddress: string | undefined): string {
  if (!remoteAddress || !ipaddr.isValid(remoteAddress)) return 'unknown';
  const parsed = ipaddr.process(remoteAddress);
  if (parsed.kind() === 'ipv4') return parsed.toString();
  const parts = (parsed as ipaddr.IPv6).parts.slice(0, 4).map((part) => part.toString(16));
  return `${parts.join(':')}::/64`;
}
