// The two listeners: gRPC over h2c (default :8089) and HTTP/1.1 for Connect, gRPC-Web and health (:8088).
import http from "node:http";
import http2 from "node:http2";
import type { AddressInfo } from "node:net";
import type { ConnectRouter, Interceptor } from "@connectrpc/connect";
import type { Logger } from "../logger.js";
import { createRpcAdapter } from "./rpc-adapter.js";

export interface ListenOptions {
  readonly host: string;
  readonly grpcPort: number;
  readonly httpPort: number;
  readonly routes: (router: ConnectRouter) => void;
  readonly interceptors: Interceptor[];
  readonly logger: Logger;
  /** Plain HTTP routes served before Connect (health, logs, REST); returns false when not handled. */
  readonly httpRoutes?: (req: http.IncomingMessage, res: http.ServerResponse) => boolean;
}

export interface Listeners {
  readonly grpcPort: number;
  readonly httpPort: number;
  /** Stops accepting, lets in-flight calls finish for up to `graceMs`, then cuts what is left. */
  close(graceMs: number): Promise<void>;
}

const MAX_MESSAGE_BYTES = 64 * 1024 * 1024;

function listen(server: http.Server | http2.Http2Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

export async function startListeners(opts: ListenOptions): Promise<Listeners> {
  const adapter = createRpcAdapter({
    routes: opts.routes,
    interceptors: opts.interceptors,
    grpc: true,
    grpcWeb: true,
    connect: true,
    readMaxBytes: MAX_MESSAGE_BYTES,
  });
  const sessions = new Set<http2.ServerHttp2Session>();
  const h2 = http2.createServer({}, adapter);
  h2.on("session", (s) => {
    sessions.add(s);
    s.once("close", () => sessions.delete(s));
  });
  const h1 = http.createServer((req, res) => {
    if (opts.httpRoutes?.(req, res) === true) return;
    adapter(req, res);
  });
  const grpcPort = await listen(h2, opts.host, opts.grpcPort);
  let httpPort: number;
  try {
    httpPort = await listen(h1, opts.host, opts.httpPort);
  } catch (err) {
    h2.close();
    throw err;
  }
  return {
    grpcPort,
    httpPort,
    async close(graceMs) {
      const h2Closed = new Promise<void>((r) => h2.close(() => r()));
      const h1Closed = new Promise<void>((r) => h1.close(() => r()));
      for (const s of sessions) s.close();
      h1.closeIdleConnections();
      const timer = setTimeout(() => {
        opts.logger.warn("shutdown grace period over; closing remaining connections", {
          open: sessions.size,
        });
        for (const s of sessions) s.destroy();
        h1.closeAllConnections();
      }, graceMs);
      // Calls whose client went away may still be running: they finish before the database goes.
      const handlersDone = Promise.race([
        adapter.running(),
        new Promise((r) => setTimeout(r, graceMs).unref()),
      ]);
      await Promise.all([h2Closed, h1Closed, handlersDone]);
      clearTimeout(timer);
    },
  };
}
