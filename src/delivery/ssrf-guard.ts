import { promises as dns } from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';
import { isBlockedAddress } from './ip-ranges.js';

export { isBlockedAddress, type AddressVerdict } from './ip-ranges.js';

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/** Hostname to addresses; injectable so no test depends on real DNS. */
export type Resolver = (hostname: string) => Promise<ResolvedAddress[]>;

export interface GuardOptions {
  /** HOOKYARD_ALLOW_PRIVATE_TARGETS: resolve as usual, refuse nothing. */
  allowPrivate: boolean;
  resolve?: Resolver;
  /** Bound on one resolution; getaddrinfo has no timeout of its own and can hang for minutes. */
  timeoutMs?: number;
  /** checkRelayUrl: accept a host that does not resolve (the connect-time check still runs). */
  allowUnresolvable?: boolean;
  /** An exception the operator listed (HOOKYARD_ALLOWED_PRIVATE_PROXIES): `address` undefined asks about the name alone. */
  exempt?: (host: string, port: string, address?: string) => boolean;
}

/** `reason` is for the caller; `detail`, with the resolved address, only for the log. */
export type RelayUrlCheck = { ok: true } | { ok: false; reason: string; detail?: string };

export const DEFAULT_RESOLVE_TIMEOUT_MS = 5_000;

/**
 * A connection refused because the relay host resolves to an address deliveries may not reach.
 * The message names the host and the kind of address, never the address a name resolved to:
 * it reaches callers (the API's refusal, the attempt log), and internal addresses are a map of
 * the network. `detail` has the address, for the log.
 */
export class SsrfBlockedError extends Error {
  readonly code = 'SSRF_BLOCKED';

  constructor(
    readonly host: string,
    readonly address: string,
    readonly range: string,
    /** What was refused: the relay's host, or its proxy. */
    readonly role: 'target' | 'proxy' = 'target',
  ) {
    super(`${role === 'proxy' ? 'proxy ' : ''}${host === address ? `${address} is ${range}` : `${host} resolves to a ${range} address`}`);
    this.name = 'SsrfBlockedError';
  }

  get detail(): string {
    return this.host === this.address ? this.message : `${this.role === 'proxy' ? 'proxy ' : ''}${this.host} resolves to ${this.address}, which is ${this.range}`;
  }
}

const systemResolve: Resolver = async (hostname) => {
  const answers = await dns.lookup(hostname, { all: true, order: 'verbatim' });
  return answers.map(({ address, family }) => ({ address, family: family === 6 ? 6 : 4 }));
};

/** Shaped like Node's own getaddrinfo errors so http-sender's classifyError calls it DNS. */
function dnsError(code: 'EAI_AGAIN' | 'ENOTFOUND', hostname: string, message: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${message} ${hostname}`), { code, syscall: 'getaddrinfo', hostname });
}

/** IP literals answer for themselves: no DNS, so nothing to rebind and nothing to hang on. */
export async function resolveWithin(hostname: string, resolve: Resolver, timeoutMs: number): Promise<ResolvedAddress[]> {
  const family = isIP(hostname);
  if (family !== 0) return [{ address: hostname, family: family === 6 ? 6 : 4 }];
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(dnsError('EAI_AGAIN', hostname, `DNS lookup timed out after ${timeoutMs} ms for`)), timeoutMs);
  });
  try {
    // A lookup that loses the race keeps its libuv thread until getaddrinfo returns; we only stop waiting.
    const addresses = await Promise.race([resolve(hostname), timeout]);
    if (addresses.length === 0) throw dnsError('ENOTFOUND', hostname, 'no addresses for');
    return addresses;
  } finally {
    clearTimeout(timer);
  }
}

/** Any blocked answer refuses the host: with several A records, the one we would skip is the one an attacker picks. */
export function firstBlocked(host: string, addresses: ResolvedAddress[], exempt?: (address: string) => boolean, role: 'target' | 'proxy' = 'target'): SsrfBlockedError | null {
  for (const { address } of addresses) {
    const verdict = isBlockedAddress(address);
    if (verdict.blocked && !exempt?.(address)) return new SsrfBlockedError(host, address, verdict.range, role);
  }
  return null;
}

function wantedFamily(family: number | 'IPv4' | 'IPv6' | undefined): 0 | 4 | 6 {
  if (family === 4 || family === 'IPv4') return 4;
  if (family === 6 || family === 'IPv6') return 6;
  return 0;
}

/**
 * A `net.LookupFunction` for undici's `connect: { lookup }`. Checking at connect time, not only
 * when the relay is saved, is what defeats DNS rebinding: the answer that is checked is the one
 * the socket connects to. Node skips `lookup` for IP-literal hosts, so those must be checked
 * before the request (as `checkRelayUrl` does).
 */
export function guardedLookup(options: GuardOptions): LookupFunction {
  const resolve = options.resolve ?? systemResolve;
  const timeoutMs = options.timeoutMs ?? DEFAULT_RESOLVE_TIMEOUT_MS;
  return (hostname, lookupOptions, callback) => {
    const answer = async (): Promise<ResolvedAddress[]> => {
      const addresses = await resolveWithin(hostname, resolve, timeoutMs);
      const blocked = options.allowPrivate ? null : firstBlocked(hostname, addresses);
      if (blocked) throw blocked;
      const family = wantedFamily(lookupOptions.family);
      const usable = family === 0 ? addresses : addresses.filter((entry) => entry.family === family);
      if (usable.length === 0) throw dnsError('ENOTFOUND', hostname, `no IPv${family} address for`);
      return usable;
    };
    // Two-argument then: a throwing callback must not be called a second time with its own error.
    answer().then(
      (usable) => {
        const [first] = usable as [ResolvedAddress, ...ResolvedAddress[]];
        if (lookupOptions.all) callback(null, usable);
        else callback(null, first.address, first.family);
      },
      (error: NodeJS.ErrnoException) => callback(error, lookupOptions.all ? [] : ''),
    );
  };
}

/**
 * The address to connect to for a host, checked: resolved once, here, so that the connection
 * goes to the address that was checked (nothing resolves the name again: DNS rebinding). For
 * connections the HTTP sender does not make (an email relay's SMTP server).
 */
export async function checkedAddress(host: string, options: GuardOptions): Promise<ResolvedAddress> {
  if (!options.allowPrivate && isLocalhost(host)) throw new SsrfBlockedError(host, host, 'loopback');
  const addresses = await resolveWithin(host, options.resolve ?? systemResolve, options.timeoutMs ?? DEFAULT_RESOLVE_TIMEOUT_MS);
  const blocked = options.allowPrivate ? null : firstBlocked(host, addresses);
  if (blocked) throw blocked;
  return addresses[0]!;
}

export function isLocalhost(host: string): boolean {
  const name = host.replace(/\.$/, '');
  return name === 'localhost' || name.endsWith('.localhost');
}

/**
 * Save-time check for a relay URL (create and update). A host that does not resolve is refused
 * too: saving an unreachable URL is almost always a typo, and the reason says so apart from SSRF.
 */
export async function checkRelayUrl(url: string, options: GuardOptions, role: 'target' | 'proxy' = 'target'): Promise<RelayUrlCheck> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { ok: false, reason: 'not a valid URL' };
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    return { ok: false, reason: `only http and https are allowed, not ${parsed.protocol.slice(0, -1)}` };
  }
  // WHATWG URL has already turned 0x7f000001, 2130706433 and 127.1 into 127.0.0.1; IPv6 keeps brackets.
  const host = parsed.hostname.replace(/^\[(.*)\]$/, '$1');
  const port = parsed.port || (parsed.protocol === 'https:' ? '443' : '80');
  if (options.exempt?.(host, port)) return { ok: true };
  // RFC 6761: *.localhost is loopback whatever a resolver says, and many resolvers say nothing.
  if (isLocalhost(host)) return options.allowPrivate ? { ok: true } : { ok: false, reason: `${role === 'proxy' ? 'proxy ' : ''}${host} is loopback` };
  // With the guard off there is nothing to check, and no reason to wait for DNS.
  if (options.allowPrivate) return { ok: true };
  let addresses: ResolvedAddress[];
  try {
    addresses = await resolveWithin(host, options.resolve ?? systemResolve, options.timeoutMs ?? DEFAULT_RESOLVE_TIMEOUT_MS);
  } catch (error) {
    // Decision: a name that does not resolve (yet, or not from here) is saved; the connect-time
    // guard still checks whatever it resolves to when a delivery is sent.
    if (options.allowUnresolvable) return { ok: true };
    const code = (error as NodeJS.ErrnoException).code;
    return { ok: false, reason: `could not resolve host ${host}${code ? ` (${code})` : ''}` };
  }
  const blocked = options.allowPrivate ? null : firstBlocked(host, addresses, (address) => options.exempt?.(host, port, address) ?? false, role);
  if (!blocked) return { ok: true };
  // An IP literal is the caller's own text; only a name's answer is kept from the caller.
  return blocked.host === blocked.address ? { ok: false, reason: blocked.message } : { ok: false, reason: blocked.message, detail: blocked.detail };
}
