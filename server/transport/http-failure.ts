// Last-resort answers on either port: a request whose handling threw gets a plain error response (or, when its
// headers are already out, a closed stream) and a log line; nothing here throws.
import type http from "node:http";
import type http2 from "node:http2";
import type { Logger } from "../logger.js";

export type AnyRequest = http.IncomingMessage | http2.Http2ServerRequest;
export type AnyResponse = http.ServerResponse | http2.Http2ServerResponse;

/** A plain-text answer; when the headers already went, the response is cut instead. */
export function answerPlain(res: AnyResponse, status: number, text: string): void {
  try {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    (res as http.ServerResponse).writeHead(status, { "content-type": "text/plain; charset=utf-8" });
    res.end(text);
  } catch {
    res.destroy();
  }
}

/** Logs what a request's handling threw and answers 500 "internal error" (the error itself is never sent). */
export function failRequest(req: AnyRequest, res: AnyResponse, err: unknown, logger: Logger): void {
  try {
    logger.error("request failed", { method: req.method, path: (req.url ?? "").split("?")[0], error: err });
  } catch {
    // A logger that throws must not turn a handled failure into an uncaught one.
  }
  answerPlain(res, 500, "internal error\n");
}
