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

/**
 * Serving while the database is available, until shutdown begins; the names are the services the router serves.
 * Shutdown is for good; a database outage lasts until the database is back.
 */
export class HealthState {
  private shuttingDown = false;
  private databaseDown: string | undefined;
  private readonly waiters = new Set<() => void>();
  constructor(private readonly services: ReadonlySet<string>) {}

  get isServing(): boolean {
    return !this.shuttingDown && this.databaseDown === undefined;
  }

  get isShuttingDown(): boolean {
    return this.shuttingDown;
  }

  /** Why not serving (undefined while serving). */
  get reason(): string | undefined {
    if (this.shuttingDown) return "shutting down";
    return this.databaseDown === undefined ? undefined : `database unavailable: ${this.databaseDown}`;
  }

  /** Shutdown began: not serving from now on. */
  setNotServing(): void {
    this.shuttingDown = true;
    this.notify();
  }

  /** Why the database is unavailable, or undefined once it is available again. */
  setDatabaseUnavailable(reason: string | undefined): void {
    if (reason === this.databaseDown) return;
    this.databaseDown = reason;
    this.notify();
  }

  private notify(): void {
    for (const w of [...this.waiters]) w();
    this.waiters.clear();
  }

  status(service: string): HealthCheckResponse {
    if (service !== "" && !this.services.has(service)) {
      throw new ConnectError(`unknown service ${service}`, Code.NotFound);
    }
    return create(HealthCheckResponseSchema, {
      status: this.isServing ? Status.SERVING : Status.NOT_SERVING,
    });
  }

  /** Resolves at the next change (at once once shutdown began) or when `signal` aborts. */
  changed(signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      if (this.shuttingDown || signal.aborted) return resolve();
      const done = () => {
        this.waiters.delete(done);
        signal.removeEventListener("abort", done);
        resolve();
      };
      this.waiters.add(done);
      signal.addEventListener("abort", done, { once: true });
    });
  }
}

export function registerHealth(router: ConnectRouter, state: HealthState): void {
  router.service(Health, {
    check: (req) => state.status(req.service),
    // The status now, then each change of it; the stream ends once shutdown began.
    async *watch(req, ctx) {
      let last = state.status(req.service);
      yield last;
      while (!state.isShuttingDown) {
        await state.changed(ctx.signal);
        if (ctx.signal.aborted) return;
        const next = state.status(req.service);
        if (next.status !== last.status) yield next;
        last = next;
      }
    },
  });
}

export function healthzRoute(state: HealthState) {
  return (req: http.IncomingMessage, res: http.ServerResponse): boolean => {
    if (req.url !== "/healthz" && req.url !== "/healthcheck") return false;
    const reason = state.reason;
    res.writeHead(reason === undefined ? 200 : 503, { "content-type": "text/plain" });
    res.end(reason === undefined ? "ok\n" : `${reason}\n`);
    return true;
  };
}
