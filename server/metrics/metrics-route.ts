// GET /metrics on the HTTP port: the Prometheus text exposition.
import type { HttpRoute } from "../transport/http-routes.js";
import type { PetrelMetrics } from "./petrel-metrics.js";

export function metricsRoute(metrics: PetrelMetrics): HttpRoute {
  return (req, res) => {
    if ((req.url ?? "").split("?")[0] !== "/metrics") return false;
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { allow: "GET, HEAD" }).end();
      return true;
    }
    return metrics.scrape().then(({ contentType, body }) => {
      res.writeHead(200, { "content-type": contentType }).end(req.method === "HEAD" ? undefined : body);
    });
  };
}
