// HealthState: a database outage comes and goes; shutdown is for good and wins over everything.
import { describe, expect, it } from "vitest";
import { HealthCheckResponse_ServingStatus as Status } from "../../../gen/grpc/health/v1/health_pb.js";
import { HealthState } from "../../../server/transport/health.js";

describe("HealthState", () => {
  it("is NOT_SERVING while the database is unavailable and SERVING again after", async () => {
    const h = new HealthState(new Set(["flyteidl.service.AdminService"]));
    const never = new AbortController().signal;
    expect(h.status("").status).toBe(Status.SERVING);
    const changed = h.changed(never);
    h.setDatabaseUnavailable("database unreachable (ECONNREFUSED)");
    await changed;
    expect(h.status("flyteidl.service.AdminService").status).toBe(Status.NOT_SERVING);
    expect(h.reason).toBe("database unavailable: database unreachable (ECONNREFUSED)");
    const back = h.changed(never);
    h.setDatabaseUnavailable(undefined);
    await back;
    expect(h.isServing).toBe(true);
    expect(h.reason).toBeUndefined();
  });

  it("stays NOT_SERVING once shutdown began, whatever the database does", async () => {
    const h = new HealthState(new Set());
    h.setDatabaseUnavailable("database unreachable");
    h.setNotServing();
    h.setDatabaseUnavailable(undefined);
    expect(h.status("").status).toBe(Status.NOT_SERVING);
    expect(h.reason).toBe("shutting down");
    // A watcher is not kept waiting after shutdown.
    await h.changed(new AbortController().signal);
    expect(h.isShuttingDown).toBe(true);
  });
});
