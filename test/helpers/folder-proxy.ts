import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Agent, request } from 'undici';

export interface FolderProxyOptions {
  /** Cut the connection half-way through a /folder range that starts at or after this byte… */
  cutAtOffset?: number;
  /** …this many times (default once). */
  cuts?: number;
  /** Refuse every /folder request with 401, even on a fresh session. */
  refuseAll?: boolean;
}

export interface FolderProxy {
  /** `http://127.0.0.1:PORT/sdk`: a source URL whose /sdk and /folder go through this proxy. */
  url: string;
  stats: { cuts: number; refused: number; folderBytes: number };
  close(): Promise<void>;
}

function cookieOf(req: IncomingMessage): string | undefined {
  return /vmware_soap_session=[^;]+/.exec(req.headers.cookie ?? '')?.[0];
}

/**
 * A loopback proxy in front of vcsim that plays what vcsim's /folder does
 * not: ESXi's session check on datastore reads (a cookie is good from the
 * Login that set it until a Logout on it), and a connection that drops
 * mid-transfer.
 */
export async function startFolderProxy(upstream: string, options: FolderProxyOptions = {}): Promise<FolderProxy> {
  const origin = new URL(upstream).origin;
  const agent = new Agent({ connect: { rejectUnauthorized: false } });
  const sessions = new Set<string>();
  const stats = { cuts: 0, refused: 0, folderBytes: 0 };
  const server: Server = createServer((req, res) => {
    void (async () => {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      const body = Buffer.concat(chunks);
      const cookie = cookieOf(req);
      const folder = req.url!.startsWith('/folder/');
      if (folder && (options.refuseAll || !cookie || !sessions.has(cookie))) {
        stats.refused++;
        res.writeHead(401).end();
        return;
      }
      if (!folder && cookie && body.includes('<Logout')) sessions.delete(cookie);
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string' && k !== 'host' && k !== 'connection') headers[k] = v;
      const up = await request(`${origin}${req.url}`, { method: req.method as 'GET', headers, ...(body.length ? { body } : {}), dispatcher: agent });
      const setCookie = ([] as string[]).concat(up.headers['set-cookie'] ?? []);
      for (const c of setCookie) if (c.startsWith('vmware_soap_session=')) sessions.add(c.split(';')[0]!);
      const out = Buffer.from(await up.body.arrayBuffer());
      const passed: Record<string, string | string[]> = {};
      for (const [k, v] of Object.entries(up.headers)) if (v !== undefined && k !== 'transfer-encoding' && k !== 'connection') passed[k] = v;
      const start = Number(/bytes=(\d+)-/.exec(req.headers.range ?? '')?.[1] ?? -1);
      if (folder && options.cutAtOffset !== undefined && stats.cuts < (options.cuts ?? 1) && start >= options.cutAtOffset) {
        stats.cuts++;
        res.writeHead(up.statusCode, passed);
        res.write(out.subarray(0, out.length >> 1), () => res.socket?.destroy());
        return;
      }
      if (folder) stats.folderBytes += out.length;
      res.writeHead(up.statusCode, passed).end(out);
    })().catch(() => res.socket?.destroy());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/sdk`,
    stats,
    async close() {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      await agent.close();
    },
  };
}
