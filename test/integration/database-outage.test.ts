// An external database (DATABASE_URL) that becomes unreachable: health reports NOT_SERVING and rpcs answer
// UNAVAILABLE while it is, and everything is back by itself once it is reachable again. The outage is a TCP proxy
// between the server and Postgres that drops every connection and refuses new ones.
import { Code, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Health, HealthCheckResponse_ServingStatus as Status } from "../../gen/grpc/health/v1/health_pb.js";
import { eventually } from "../support/eventually.js";
import { expectCode } from "../support/expect-error.js";
import { createGrpcJsClient } from "../support/grpc-js-client.js";
import { startTcpProxy, type TcpProxy, targetOf } from "../support/tcp-proxy.js";
import { createTestDatabase, type TestDatabase } from "../support/test-database.js";
import { startTestServer, type TestServer } from "../support/test-server.js";

let database: TestDatabase;
let proxy: TcpProxy;
let t: TestServer;

beforeAll(async () => {
  database = await createTestDatabase();
  proxy = await startTcpProxy(targetOf(database.url));
  t = await startTestServer({ database: { ...database, url: proxy.urlFor(database.url) } });
});

afterAll(async () => {
  await t?.stop();
  await proxy?.close();
  await database?.drop();
});

async function healthz(): Promise<{ status: number; body: string }> {
  const res = await fetch(`${t.httpBaseUrl}/healthz`);
  return { status: res.status, body: await res.text() };
}

describe("an external database that cannot be reached for a while", () => {
  it("reports NOT_SERVING and answers UNAVAILABLE meanwhile, and serves again once it is back", async () => {
    await t.admin.registerProject({ project: { id: "steady", name: "before the outage" } });
    expect(await healthz()).toEqual({ status: 200, body: "ok\n" });
    const watching = new AbortController();
    const watched: Status[] = [];
    const watch = (async () => {
      const health = createClient(Health, createGrpcTransport({ baseUrl: `http://${t.grpcAddress}` }));
      for await (const r of health.watch({}, { signal: watching.signal })) watched.push(r.status);
    })().catch(() => undefined);
    await eventually(
      async () => watched.length,
      (n) => n === 1,
    );

    await proxy.cut();
    const down = await eventually(healthz, (h) => h.status === 503);
    expect(down.body).toBe("database unavailable: database unreachable (ECONNREFUSED)\n");
    const grpcHealth = createGrpcJsClient(Health, t.grpcAddress);
    try {
      expect((await grpcHealth.unary("check", { service: "" })).status).toBe(Status.NOT_SERVING);
    } finally {
      grpcHealth.close();
    }
    await expectCode(t.admin.getProject({ id: "steady" }), Code.Unavailable);
    await expectCode(t.admin.registerProject({ project: { id: "lost", name: "during" } }), Code.Unavailable);

    await proxy.restore();
    await eventually(healthz, (h) => h.status === 200);
    await eventually(
      async () => watched.length,
      (n) => n === 3,
    );
    expect(watched).toEqual([Status.SERVING, Status.NOT_SERVING, Status.SERVING]);
    watching.abort();
    await watch;
    // The pool dropped its broken connections: rpcs work again.
    expect((await t.admin.getProject({ id: "steady" })).name).toBe("before the outage");
    await t.admin.registerProject({ project: { id: "after", name: "after the outage" } });
    expect((await t.admin.getProject({ id: "after" })).name).toBe("after the outage");
  });
});
