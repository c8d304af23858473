/**
 * `coropool watch --prometheus [HOST:]PORT`: the host metrics (metrics.ts)
 * served at /metrics over HTTP. The watch feeds it each snapshot set with
 * `updateMetrics`; a scrape only renders what the last set said, so
 * Prometheus's scrape interval never adds reads of /proc.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { InputError } from "../errors.js";
import { shownText, MAX_SHOWN_CHARS } from "../message-text.js";
import { formatListenAddress, type ListenAddress } from "./listen-address.js";
import { createHostMetrics, type SnapshotSetInfo } from "./metrics.js";
import type { WatchedProcess } from "./watcher.js";

export const METRICS_PATH = "/metrics";

export interface Exporter {
  /** Where it listens: the port is the real one when 0 (any free port) was asked. */
  readonly address: ListenAddress;
  /** The metrics page's URL. */
  readonly url: string;
  /** Sets the gauges from the latest snapshot set; a process not in it loses its series. */
  updateMetrics(snapshots: readonly WatchedProcess[], info?: SnapshotSetInfo): void;
  /** What a scrape of /metrics returns now. */
  metricsText(): Promise<string>;
  /** Stops listening and ends open connections (Prometheus keeps its connection alive); leaves no handle. */
  close(): Promise<void>;
}

/**
 * Listens on `address` and serves the metrics. An address that cannot be
 * listened on (the port in use, an address not on this host, a host name that
 * does not resolve) is an InputError naming it.
 */
export async function startExporter(address: ListenAddress): Promise<Exporter> {
  const metrics = createHostMetrics();
  const server = createServer((req, res) => void serve(req, res, () => metrics.registry.metrics(), metrics.registry.contentType));
  await listen(server, address);
  const bound = boundAddress(server, address);
  return {
    address: bound,
    url: `http://${formatListenAddress(bound)}${METRICS_PATH}`,
    updateMetrics: metrics.updateMetrics,
    metricsText: () => metrics.registry.metrics(),
    close: () => closeServer(server),
  };
}

async function serve(req: IncomingMessage, res: ServerResponse, render: () => Promise<string>, contentType: string): Promise<void> {
  const path = (req.url ?? "/").split("?")[0];
  if (path !== METRICS_PATH) return reply(res, 404, "text/plain", `coropool serves ${METRICS_PATH} only\n`);
  if (req.method !== "GET" && req.method !== "HEAD") return reply(res, 405, "text/plain", "GET only\n");
  try {
    reply(res, 200, contentType, await render());
  } catch (err) {
    reply(res, 500, "text/plain", `${String(err)}\n`);
  }
}

function reply(res: ServerResponse, status: number, contentType: string, body: string): void {
  res.writeHead(status, { "Content-Type": contentType });
  res.end(body);
}

function listen(server: Server, address: ListenAddress): Promise<void> {
  return new Promise((resolve, reject) => {
    const failed = (err: NodeJS.ErrnoException) => reject(listenError(err, address));
    server.once("error", failed);
    server.listen(address.port, address.host, () => {
      server.off("error", failed);
      resolve();
    });
  });
}

/** Why an address cannot be listened on, as one line naming it; an unforeseen failure stays as it is. */
function listenError(err: NodeJS.ErrnoException, address: ListenAddress): Error {
  const where = shownText(formatListenAddress(address), MAX_SHOWN_CHARS);
  const reason = LISTEN_FAILURES[err.code ?? ""];
  return reason ? new InputError("ERR_LISTEN", `cannot listen on ${where}: ${reason}`) : err;
}

const LISTEN_FAILURES: Record<string, string> = {
  EADDRINUSE: "the port is in use",
  EADDRNOTAVAIL: "the address is not one of this host's",
  EACCES: "not allowed (a port below 1024 needs root or CAP_NET_BIND_SERVICE)",
  EAFNOSUPPORT: "this host has no IPv6",
  ENOTFOUND: "no such host",
  EAI_AGAIN: "the host name cannot be resolved now",
};

function boundAddress(server: Server, asked: ListenAddress): ListenAddress {
  const { port } = server.address() as AddressInfo;
  return { host: asked.host, port };
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    server.close((err) => (err ? reject(err) : resolve()));
    server.closeAllConnections();
  });
}
