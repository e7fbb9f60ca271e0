// The two listeners: gRPC over h2c (default :8089) and HTTP/1.1 for Connect, gRPC-Web, health and the console
// (:8088). The gRPC port answers HTTP/1.1 as the HTTP port does (flytekit's console links lead there).
import type http from "node:http";
import type http2 from "node:http2";
import type { AddressInfo, Server, Socket } from "node:net";
import type { ConnectRouter, Interceptor } from "@connectrpc/connect";
import type { UniversalHandler } from "@connectrpc/connect/protocol";
import type { Logger } from "../logger.js";
import { deadlineInterceptor } from "./deadline-interceptor.js";
import { type HttpRoute, runRoute } from "./http-routes.js";
import { watchKeepAlive } from "./keep-alive.js";
import { SniffingListener } from "./protocol-sniff.js";
import { RateLimiter, rateLimitInterceptor } from "./rate-limit.js";
import { requestGuardInterceptor } from "./request-guard.js";
import { type RequestLimits, requestLimitsInterceptor } from "./request-limits.js";
import { limitRequestRead } from "./request-read-timeout.js";
import { createRpcAdapter } from "./rpc-adapter.js";
import { DEFAULT_SESSION_GUARD, guardSession, type SessionGuardOptions } from "./session-guard.js";
import { createH1Server, createH2Server, reloadTls, type TlsFiles } from "./tls.js";

export interface ListenOptions {
  readonly host: string;
  readonly grpcPort: number;
  readonly httpPort: number;
  readonly routes: (router: ConnectRouter) => void;
  readonly interceptors: Interceptor[];
  readonly logger: Logger;
  /** Plain HTTP routes served before Connect (health, logs, REST); what they throw becomes a 500. */
  readonly httpRoutes?: HttpRoute;
  /** Plain GET and HEAD routes also served over HTTP/2 on the gRPC port (the console, for browsers over TLS). */
  readonly http2Routes?: HttpRoute<http2.Http2ServerRequest, http2.Http2ServerResponse>;
  /** The REST gateway, given the rpcs' Connect handlers; served after `httpRoutes`. */
  readonly restGateway?: (lookup: (requestPath: string) => UniversalHandler | undefined) => HttpRoute;
  /** HTTP/2 connection limits (rapid resets, idle connections). */
  readonly sessionGuard?: SessionGuardOptions;
  /** Certificate and key files: both ports speak TLS. */
  readonly tls?: TlsFiles;
  /** What one request, connection or caller may ask for (defaults: DEFAULT_LIMITS). */
  readonly limits?: TransportLimits;
}

export interface TransportLimits extends RequestLimits {
  readonly maxRequestBytes: number;
  readonly maxConcurrentStreams: number;
  /** Calls per second per principal (peer address without one); 0: no limit. */
  readonly rateLimit: number;
  readonly rateLimitBurst: number;
  readonly requestReadTimeoutMs: number;
}

export const DEFAULT_LIMITS: TransportLimits = {
  maxRequestBytes: 64 * 1024 * 1024,
  maxListLimit: 1000,
  maxFilterLength: 32_768,
  maxLiteralDepth: 32,
  maxConcurrentStreams: 1000,
  rateLimit: 0,
  rateLimitBurst: 1,
  requestReadTimeoutMs: 30_000,
};

export interface Listeners {
  readonly grpcPort: number;
  readonly httpPort: number;
  /** Re-reads the TLS files for new connections (false without TLS); throws, keeping the old pair, when unusable. */
  reloadTls(): boolean;
  /** Stops accepting, lets in-flight calls finish for up to `graceMs`, then cuts what is left. */
  close(graceMs: number): Promise<void>;
}

function listen(server: Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

export async function startListeners(opts: ListenOptions): Promise<Listeners> {
  const limits = opts.limits ?? DEFAULT_LIMITS;
  const adapter = createRpcAdapter({
    routes: opts.routes,
    // The request guard runs innermost: the given interceptors (error translation among them) see its failures. The
    // rate limit runs after them, once authentication has named the principal.
    interceptors: [
      ...opts.interceptors,
      deadlineInterceptor(),
      ...(limits.rateLimit > 0
        ? [
            rateLimitInterceptor(
              new RateLimiter({ perSecond: limits.rateLimit, burst: limits.rateLimitBurst }),
            ),
          ]
        : []),
      requestLimitsInterceptor(limits),
      requestGuardInterceptor(),
    ],
    grpc: true,
    grpcWeb: true,
    connect: true,
    readMaxBytes: limits.maxRequestBytes,
    logger: opts.logger,
  });
  const rest = opts.restGateway?.((path) => adapter.handler(path));
  // Once closing, a keep-alive connection is closed as soon as its last response went (not at the end of the grace).
  let closing = false;
  const serveHttp1 = (req: http.IncomingMessage, res: http.ServerResponse) => {
    watchKeepAlive(h1, res, () => closing);
    if (opts.httpRoutes !== undefined && runRoute(opts.httpRoutes, req, res, opts.logger)) return;
    if (rest !== undefined && runRoute(rest, req, res, opts.logger)) return;
    adapter(req, res);
  };
  const h1 = createH1Server(opts.tls, serveHttp1);
  h1.requestTimeout = limits.requestReadTimeoutMs;
  h1.headersTimeout = Math.min(h1.headersTimeout, limits.requestReadTimeoutMs);
  const sessionGuard = opts.sessionGuard ?? DEFAULT_SESSION_GUARD;
  const sessions = new Set<http2.ServerHttp2Session>();
  const h2 = createH2Server(
    opts.tls,
    (req, res) => {
      const page = opts.http2Routes !== undefined && (req.method === "GET" || req.method === "HEAD");
      if (page && runRoute(opts.http2Routes, req, res, opts.logger)) return;
      limitRequestRead(req, res, limits.requestReadTimeoutMs);
      adapter(req, res);
    },
    serveHttp1,
  );
  // Clients open at most this many streams at once on a connection; nghttp2 refuses streams beyond it.
  h2.updateSettings({ maxConcurrentStreams: limits.maxConcurrentStreams });
  const grpcListener = opts.tls === undefined ? new SniffingListener(h2, h1, sessionGuard.idleMs) : h2;
  // A session closed gracefully only ends its socket: a client that never closes its side would hold it open.
  const sockets = new Set<Socket>();
  grpcListener.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  });
  h2.on("session", (s) => {
    sessions.add(s);
    s.once("close", () => sessions.delete(s));
    guardSession(s, opts.logger, sessionGuard);
  });
  // The HTTP server listens first: the gRPC port hands it connections, which it tracks once listening.
  const httpPort = await listen(h1, opts.host, opts.httpPort);
  let grpcPort: number;
  try {
    grpcPort = await listen(grpcListener, opts.host, opts.grpcPort);
  } catch (err) {
    h1.close();
    throw err;
  }
  return {
    grpcPort,
    httpPort,
    reloadTls: () => reloadTls(opts.tls, [h2, h1]),
    async close(graceMs) {
      const h2Closed = new Promise<void>((r) => grpcListener.close(() => r()));
      const h1Closed = new Promise<void>((r) => h1.close(() => r()));
      for (const s of sessions) s.close();
      closing = true;
      h1.closeIdleConnections();
      const timer = setTimeout(() => {
        opts.logger.warn("shutdown grace period over; closing remaining connections", {
          open: sessions.size,
        });
        for (const s of sessions) s.destroy();
        for (const socket of sockets) socket.destroy();
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
