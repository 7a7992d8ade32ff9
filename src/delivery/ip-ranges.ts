import ipaddr from 'ipaddr.js';

export type AddressVerdict = { blocked: true; range: string } | { blocked: false };

/**
 * Single addresses that ipaddr.js would call private, link-local or CGNAT (or even unicast) but
 * that deserve their own name in a refusal: they hand out cloud credentials to whoever asks.
 */
const METADATA: [ipaddr.IPv4 | ipaddr.IPv6, number][] = [
  '169.254.169.254/32', // AWS, GCP, Azure, OpenStack
  'fd00:ec2::254/128', // AWS over IPv6
  '100.100.100.200/32', // Alibaba Cloud
  // Azure's WireServer is a public address reachable only from inside Azure: unicast to ipaddr.js.
  '168.63.129.16/32',
].map((cidr) => ipaddr.parseCIDR(cidr));

/** ipaddr.js range names rewritten for a message a user reads; unlisted names are shown as-is. */
const LABELS: Record<string, string> = {
  linkLocal: 'link-local',
  carrierGradeNat: 'carrier-grade NAT',
  uniqueLocal: 'unique local',
  deprecatedSiteLocal: 'site-local',
  rfc6052: 'NAT64',
  rfc6145: 'IPv4-translated',
};

function embeddedIPv4(address: ipaddr.IPv6): ipaddr.IPv4 | null {
  if (address.isIPv4MappedAddress()) return address.toIPv4Address();
  // IPv4-compatible ::a.b.c.d (deprecated, RFC 4291) is unicast to ipaddr.js, yet a kernel with
  // a sit tunnel delivers ::7f00:1 to 127.0.0.1. :: and ::1 stay IPv6 (unspecified, loopback).
  const [a, b, c, d, e, f, high, low] = address.parts as [number, number, number, number, number, number, number, number];
  if (a === 0 && b === 0 && c === 0 && d === 0 && e === 0 && f === 0 && (high !== 0 || low > 1)) {
    return new ipaddr.IPv4([high >> 8, high & 0xff, low >> 8, low & 0xff]);
  }
  return null;
}

/**
 * Whether a delivery may connect to `address`. Everything ipaddr.js does not call `unicast` is
 * refused, which covers loopback, private, link-local, CGNAT, multicast, unspecified, broadcast,
 * reserved, benchmarking and documentation ranges, and also the whole 6to4, Teredo and NAT64
 * prefixes (so one embedding 127.0.0.1 is caught without decoding it). IPv4-mapped and
 * IPv4-compatible IPv6 are judged as the IPv4 address they carry. Unparseable input is refused:
 * an address we cannot read is one we cannot vouch for.
 */
export function isBlockedAddress(address: string): AddressVerdict {
  let parsed: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    parsed = ipaddr.parse(address);
  } catch {
    return { blocked: true, range: 'unparseable' };
  }
  if (parsed.kind() === 'ipv6') parsed = embeddedIPv4(parsed as ipaddr.IPv6) ?? parsed;
  const current = parsed;
  if (METADATA.some(([net, bits]) => net.kind() === current.kind() && current.match(net, bits))) {
    return { blocked: true, range: 'cloud metadata' };
  }
  const range: string = current.range();
  return range === 'unicast' ? { blocked: false } : { blocked: true, range: LABELS[range] ?? range };
}
