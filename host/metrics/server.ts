/**
 * The HTTP endpoint: /metrics (Prometheus text format) and /healthz (200 only
 * while capture and engine are running, as Tracee's).
 */
import { createServer, type Server } from 'node:http';
import type { Registry } from 'prom-client';
import { InvalidArgumentError } from '../errors.ts';

export interface ListenAddress {
  host: string;
  port: number;
}

/** Parses Tracee's `:3366` / `127.0.0.1:3366` / `[::1]:3366` form. */
export function parseListenAddress(text: string): ListenAddress {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(text);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw new InvalidArgumentError(`--metrics-addr ${text}: expected [HOST]:PORT, e.g. :3366`);
  return { host: m[1] ?? (m[2] || '0.0.0.0'), port };
}

export async function serveMetrics(registry: Registry, address: ListenAddress, healthy: () => boolean): Promise<Server> {
  const server = createServer(async (req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/metrics') {
      try {
        const body = await registry.metrics();
        res.writeHead(200, { 'Content-Type': registry.contentType }).end(body);
      } catch (err) {
        res.writeHead(500).end(`metrics: ${(err as Error).message}\n`);
      }
    } else if (path === '/healthz') {
      const ok = healthy();
      res.writeHead(ok ? 200 : 503, { 'Content-Type': 'text/plain' }).end(ok ? 'OK\n' : 'NOT OK\n');
    } else {
      res.writeHead(404).end('not found\n');
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) => reject(new InvalidArgumentError(`metrics server on ${address.host}:${address.port}: ${err.message}`)));
    server.listen(address.port, address.host, () => resolve());
  });
  return server;
}
