import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { WorkerMetrics } from './metrics.js';
import type { Condition, Phase } from '../vmio.js';

/** What the pod reports on :8080. */
export interface WorkerResults {
  status: {
    phase: Phase;
    progress: number;
    conditions: Condition[];
    disks: { index: number; bytesDone: number; bytesTotal: number }[];
    error?: { code: string; message: string; hint?: string };
    /** VMIO's status.targetVmName and status.dataVolumes: the VirtualMachine and the claims it boots. */
    targetVmName?: string;
    dataVolumes?: { name: string }[];
  };
  vm?: unknown;
  inspection?: unknown;
  warnings: string[];
}

export interface WorkerServers {
  metricsPort: number;
  resultsPort: number;
  close(): Promise<void>;
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve((server.address() as AddressInfo).port));
  });
}

/**
 * Prometheus metrics on one port and the results API on another:
 * `/status`, `/vm` (404 until the VirtualMachine exists), `/inspection`, `/warnings`, `/healthz`.
 */
export async function startWorkerServers(
  metrics: WorkerMetrics,
  results: () => WorkerResults,
  options: { metricsPort: number; resultsPort: number; host?: string },
): Promise<WorkerServers> {
  const host = options.host ?? '0.0.0.0';
  const metricsServer = createServer((req, res) => {
    if (req.url !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    metrics.registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text),
      (e: unknown) => res.writeHead(500).end(String(e)),
    );
  });
  const json = (res: ServerResponse, code: number, body: unknown) => res.writeHead(code, { 'content-type': 'application/json' }).end(`${JSON.stringify(body)}\n`);
  const resultsServer = createServer((req, res) => {
    const r = results();
    switch (req.url) {
      case '/healthz':
        return json(res, 200, { ok: true });
      case '/status':
        return json(res, 200, r.status);
      case '/vm':
        return r.vm ? json(res, 200, r.vm) : json(res, 404, { error: 'the VirtualMachine is not ready yet', phase: r.status.phase });
      case '/inspection':
        return r.inspection ? json(res, 200, r.inspection) : json(res, 404, { error: 'no inspection yet', phase: r.status.phase });
      case '/warnings':
        return json(res, 200, r.warnings);
      default:
        return json(res, 404, { error: 'not found', paths: ['/status', '/vm', '/inspection', '/warnings', '/healthz'] });
    }
  });
  const metricsPort = await listen(metricsServer, options.metricsPort, host);
  const resultsPort = await listen(resultsServer, options.resultsPort, host);
  return {
    metricsPort,
    resultsPort,
    close: async () => {
      metricsServer.closeAllConnections();
      resultsServer.closeAllConnections();
      await Promise.all([new Promise((r) => metricsServer.close(r)), new Promise((r) => resultsServer.close(r))]);
    },
  };
}
