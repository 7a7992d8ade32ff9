/**
 * NO_PROXY as curl and most tools read it: comma- or space-separated entries; `*` matches every
 * host; `example.com` and `.example.com` match the host and its subdomains; `host:port` also
 * requires the port; IP literals match exactly.
 *
 * Ours, not undici's `EnvHttpProxyAgent`: it matches NO_PROXY against the origin it dispatches
 * to, which is the checked address (so a name entry never matches), and given the name
 * instead it resolves it again (direct) or asks the proxy to CONNECT to it: either way the
 * connection would no longer go to the address the SSRF guard checked. Its matcher is private.
 */
export function bypassesProxy(url: URL, noProxy: string | undefined): boolean {
  if (!noProxy) return false;
  const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  const port = url.port || (url.protocol === 'https:' ? '443' : '80');
  for (const raw of noProxy.split(/[\s,]+/)) {
    const entry = raw.trim().toLowerCase();
    if (!entry) continue;
    if (entry === '*') return true;
    const [name, entryPort] = entry.startsWith('[') ? [entry.slice(1, entry.indexOf(']')), entry.split(']:')[1]] : entry.split(':');
    if (entryPort && entryPort !== port) continue;
    const domain = name!.replace(/^\*?\./, '');
    if (host === domain || host.endsWith(`.${domain}`)) return true;
  }
  return false;
}
