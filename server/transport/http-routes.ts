// Plain HTTP routes on the HTTP/1.1 port: task logs (the TaskLog URIs of task executions), and how routes are run.
import type http from "node:http";
import type { Knex } from "knex";
import type { Logger } from "../logger.js";
import type { DataStore } from "../repositories/data-store.js";
import { attemptLogUri } from "../storage/layout.js";
import { type AnyRequest, type AnyResponse, answerPlain, failRequest } from "./http-failure.js";

/**
 * A plain HTTP route: false when the request is not its own; true when it answered; a promise when it answers
 * asynchronously (a rejection becomes a 500, see `runRoute`). HTTP/1.1 unless its types say otherwise.
 */
export type HttpRoute<
  Req extends AnyRequest = http.IncomingMessage,
  Res extends AnyResponse = http.ServerResponse,
> = (req: Req, res: Res) => boolean | Promise<void>;

/** The decoded path segments, or undefined when one is not valid percent-encoded UTF-8. */
function decodeSegments(path: string): string[] | undefined {
  try {
    return path.split("/").map(decodeURIComponent);
  } catch {
    return undefined;
  }
}

export function logsRoute(db: Knex, data: DataStore): HttpRoute {
  return (req, res) => {
    const m = /^\/api\/v1\/logs\/((?:[^/]+\/){5}(?:stdout|stderr))$/.exec(req.url?.split("?")[0] ?? "");
    if (m === null || req.method !== "GET") return false;
    const parts = decodeSegments(m[1] ?? "");
    if (parts === undefined) {
      answerPlain(res, 400, "bad request: the log path is not valid percent-encoded UTF-8\n");
      return true;
    }
    const [project = "", domain = "", name = "", node = "", attempt = "", stream = "stdout"] = parts;
    if (
      !parts.every((p) => /^[A-Za-z0-9_.-]+$/.test(p) && p !== "." && p !== "..") ||
      !/^\d+$/.test(attempt)
    ) {
      answerPlain(res, 400, "bad request: not a task log path\n");
      return true;
    }
    const uri = attemptLogUri(
      data.root,
      { project, domain, name },
      node,
      Number(attempt),
      stream as "stdout",
    );
    return data.get(db, uri).then((bytes) => {
      if (bytes === undefined) {
        res.writeHead(404, { "content-type": "text/plain" }).end("log not found\n");
        return;
      }
      res.writeHead(200, { "content-type": "text/plain; charset=utf-8" }).end(Buffer.from(bytes));
    });
  };
}

export function combineRoutes(...routes: HttpRoute[]): HttpRoute {
  return (req, res) => {
    for (const route of routes) {
      const served = route(req, res);
      if (served !== false) return served;
    }
    return false;
  };
}

/**
 * Runs a route; false when it does not serve the request. Whatever the route throws, or its promise rejects with,
 * is logged and answered 500 "internal error": never an uncaught exception.
 */
export function runRoute<Req extends AnyRequest, Res extends AnyResponse>(
  route: HttpRoute<Req, Res>,
  req: Req,
  res: Res,
  logger: Logger,
): boolean {
  let served: boolean | Promise<void>;
  try {
    served = route(req, res);
  } catch (err) {
    failRequest(req, res, err, logger);
    return true;
  }
  if (typeof served === "boolean") return served;
  served.catch((err: unknown) => failRequest(req, res, err, logger));
  return true;
}
