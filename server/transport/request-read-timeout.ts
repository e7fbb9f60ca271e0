// A request on the HTTP/2 port must arrive within a time limit once its headers have: a client that sends part of a
// body and stalls (slow or half-open) is answered (gRPC: DEADLINE_EXCEEDED; otherwise 408) and its stream is reset,
// so it holds neither a handler nor, once its connection is idle, the connection (session-guard.ts closes those).
// HTTP/1.1 has Node's own requestTimeout/headersTimeout, set to the same limit in servers.ts.
import http2 from "node:http2";

const isGrpc = (req: http2.Http2ServerRequest) =>
  String(req.headers["content-type"] ?? "").startsWith("application/grpc");

export function limitRequestRead(
  req: http2.Http2ServerRequest,
  res: http2.Http2ServerResponse,
  timeoutMs: number,
): void {
  if (req.complete) return;
  const timer = setTimeout(() => {
    if (req.complete || req.stream.destroyed) return;
    const message = `the request did not arrive within ${timeoutMs} ms`;
    if (!res.headersSent) {
      if (isGrpc(req)) {
        res.writeHead(200, {
          "content-type": "application/grpc",
          "grpc-status": "4",
          "grpc-message": encodeURIComponent(message),
        });
        res.end();
      } else {
        res.writeHead(408, { "content-type": "text/plain; charset=utf-8" });
        res.end(`${message}\n`);
      }
    }
    // The rest of the body is not wanted: the stream is reset once the answer went.
    setImmediate(() => req.stream.close(http2.constants.NGHTTP2_CANCEL));
  }, timeoutMs);
  timer.unref();
  const done = () => clearTimeout(timer);
  req.once("end", done);
  req.stream.once("close", done);
}
