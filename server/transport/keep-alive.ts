// HTTP/1.1 keep-alive during shutdown: a connection whose request was in flight when closing began would otherwise
// sit idle until its keep-alive timeout (or the end of the grace period) before the server can close.
import type http from "node:http";

/** Once `closing()`, the response asks the client to close, and idle connections are closed when it has gone. */
export function watchKeepAlive(server: http.Server, res: http.ServerResponse, closing: () => boolean): void {
  if (closing() && !res.headersSent) res.setHeader("connection", "close");
  res.once("finish", () => {
    // After Node has marked the connection idle (its own finish handler runs first, the socket is freed next tick).
    if (closing()) setImmediate(() => server.closeIdleConnections());
  });
}
