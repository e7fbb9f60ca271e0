// Per-connection guards on the HTTP/2 port.
//
// Rapid resets: nghttp2 (Node's HTTP/2) allows each connection a budget of stream resets from the client
// (CVE-2023-44487: a burst of 1000, refilled at 33 a second); past it, it sends GOAWAY INTERNAL_ERROR, which Node
// clients (Connect, grpc-js) take as fatal for every call on the connection, so a client cancelling many watch
// streams lost all its other calls too. The guard keeps the same budget and, before nghttp2's runs out, closes the
// connection gracefully (GOAWAY NO_ERROR): calls in flight on it finish, the client opens a new connection for new
// ones, and nghttp2 stops counting once a GOAWAY is out. (Node 20 cannot raise nghttp2's budget; Node 22.10 added
// streamResetBurst/streamResetRate. The guard works the same on every version.)
//
// Idle connections: a connection without streams and without traffic for `idleMs` is closed. That also ends the
// ones nghttp2 has given up on (after a GOAWAY for a malformed frame, Node keeps the socket open) and the ones whose
// client connects and sends nothing. One with streams open is pinged instead: a client that does not answer within
// `pingTimeoutMs` is gone (half-open: its machine or network vanished without a FIN) and the connection is destroyed,
// ending its calls (a watch stream waiting to write would otherwise hold it for as long as TCP retransmits).
import http2 from "node:http2";
import type { Logger } from "../logger.js";

export interface SessionGuardOptions {
  /** Resets allowed at once (nghttp2: 1000). */
  readonly resetBurst: number;
  /** Resets allowed per second after the burst (nghttp2: 33). */
  readonly resetsPerSecond: number;
  /** Budget left unused, for resets the guard cannot see (of a stream that had just ended). */
  readonly resetReserve: number;
  /** A connection without streams is closed after this long without traffic; one with streams is pinged. */
  readonly idleMs: number;
  /** How long a pinged client has to answer before its connection is destroyed. */
  readonly pingTimeoutMs: number;
}

export const DEFAULT_SESSION_GUARD: SessionGuardOptions = {
  resetBurst: 1000,
  resetsPerSecond: 33,
  resetReserve: 300,
  idleMs: 5 * 60_000,
  pingTimeoutMs: 20_000,
};

export function guardSession(
  session: http2.ServerHttp2Session,
  logger: Logger,
  opts: SessionGuardOptions = DEFAULT_SESSION_GUARD,
): void {
  let open = 0;
  let tokens = opts.resetBurst;
  let at = performance.now();
  const onReset = () => {
    if (session.closed || session.destroyed) return;
    const now = performance.now();
    tokens = Math.min(opts.resetBurst, tokens + ((now - at) / 1000) * opts.resetsPerSecond) - 1;
    at = now;
    if (tokens >= opts.resetReserve) return;
    logger.warn("client resets HTTP/2 streams too fast; closing its connection gracefully", {
      remote: session.socket?.remoteAddress,
    });
    session.close();
  };
  session.on("stream", (stream) => {
    open++;
    stream.once("close", () => {
      open--;
      if (stream.rstCode !== http2.constants.NGHTTP2_NO_ERROR) onReset();
    });
  });
  session.setTimeout(opts.idleMs, () => {
    if (open === 0) return session.destroy();
    if (session.closed || session.destroyed) return;
    const timer = setTimeout(() => session.destroy(), opts.pingTimeoutMs).unref();
    const sent = session.ping((err) => {
      clearTimeout(timer);
      if (err !== null && !session.destroyed) session.destroy();
    });
    if (!sent) clearTimeout(timer);
  });
}
