// Plain HTTP routes on the HTTP/1.1 port: task logs (the TaskLog URIs of task executions).
import type http from "node:http";
import type { Knex } from "knex";
import { type DataStore, dataUri } from "../repositories/data-store.js";

type Route = (req: http.IncomingMessage, res: http.ServerResponse) => boolean;

export function logsRoute(db: Knex, data: DataStore): Route {
  return (req, res) => {
    const m = /^\/api\/v1\/logs\/((?:[^/]+\/){5}(?:stdout|stderr))$/.exec(req.url?.split("?")[0] ?? "");
    if (m === null || req.method !== "GET") return false;
    const parts = (m[1] ?? "").split("/").map(decodeURIComponent);
    data.get(db, dataUri("logs", ...parts)).then(
      (bytes) => {
        if (bytes === undefined) {
          res.writeHead(404, { "content-type": "text/plain" }).end("log not found\n");
          return;
        }
        res.writeHead(200, { "content-type": "text/plain; charset=utf-8" }).end(Buffer.from(bytes));
      },
      () => res.writeHead(500, { "content-type": "text/plain" }).end("cannot read log\n"),
    );
    return true;
  };
}

export function combineRoutes(...routes: Route[]): Route {
  return (req, res) => routes.some((r) => r(req, res));
}
