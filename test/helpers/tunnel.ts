import type { Server } from 'node:http';
import { connect as netConnect, type Socket } from 'node:net';

export interface TunnelOptions {
  /** Called with each CONNECT target as asked (`host:port`). */
  onTunnel?(target: string): void;
  /** Where to really connect for an asked host name (default: the name itself). */
  connectTo?(hostname: string): string;
}

/**
 * Answers CONNECT on `server` as a forward proxy does: a tunnel to the asked host and port, both
 * sockets tracked so that `destroyAll` ends every tunnel when the test's proxy closes.
 */
export function serveTunnels(server: Server, options: TunnelOptions = {}): { destroyAll(): void } {
  const sockets = new Set<Socket>();
  server.on('connect', (request, client: Socket, head: Buffer) => {
    options.onTunnel?.(request.url ?? '');
    const { hostname, port } = new URL(`http://${request.url ?? ''}`);
    const host = hostname.replace(/^\[|\]$/g, '');
    const upstream = netConnect(Number(port || 443), options.connectTo?.(host) ?? host, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('error', () => {});
      socket.on('close', () => {
        sockets.delete(socket);
        client.destroy();
        upstream.destroy();
      });
    }
  });
  return {
    destroyAll() {
      for (const socket of sockets) socket.destroy();
    },
  };
}
