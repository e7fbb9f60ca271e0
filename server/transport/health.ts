// grpc.health.v1 and the plain HTTP /healthz probe.
import type http from "node:http";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, type ConnectRouter } from "@connectrpc/connect";
import {
  Health,
  type HealthCheckResponse,
  HealthCheckResponseSchema,
  HealthCheckResponse_ServingStatus as Status,
} from "../../gen/grpc/health/v1/health_pb.js";

/** Serving until shutdown begins; the names are the services the router serves. */
export class HealthState {
  private serving = true;
  private readonly waiters = new Set<() => void>();
  constructor(private readonly services: ReadonlySet<string>) {}

  get isServing(): boolean {
    return this.serving;
  }

  setNotServing(): void {
    this.serving = false;
    for (const w of this.waiters) w();
    this.waiters.clear();
  }

  status(service: string): HealthCheckResponse {
    if (service !== "" && !this.services.has(service)) {
      throw new ConnectError(`unknown service ${service}`, Code.NotFound);
    }
    return create(HealthCheckResponseSchema, { status: this.serving ? Status.SERVING : Status.NOT_SERVING });
  }

  changed(signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      if (!this.serving || signal.aborted) return resolve();
      this.waiters.add(resolve);
      signal.addEventListener("abort", () => resolve(), { once: true });
    });
  }
}

export function registerHealth(router: ConnectRouter, state: HealthState): void {
  router.service(Health, {
    check: (req) => state.status(req.service),
    async *watch(req, ctx) {
      yield state.status(req.service);
      if (!state.isServing) return;
      await state.changed(ctx.signal);
      if (!ctx.signal.aborted) yield state.status(req.service);
    },
  });
}

export function healthzRoute(state: HealthState) {
  return (req: http.IncomingMessage, res: http.ServerResponse): boolean => {
    if (req.url !== "/healthz" && req.url !== "/healthcheck") return false;
    res.writeHead(state.isServing ? 200 : 503, { "content-type": "text/plain" });
    res.end(state.isServing ? "ok\n" : "shutting down\n");
    return true;
  };
}
