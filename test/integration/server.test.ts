import { Code, ConnectError, createClient } from "@connectrpc/connect";
import {
  createConnectTransport,
  createGrpcTransport,
  createGrpcWebTransport,
} from "@connectrpc/connect-node";
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AdminService } from "../../gen/flyteidl/service/admin_pb.js";
import { DataProxyService } from "../../gen/flyteidl/service/dataproxy_pb.js";
import { Health, HealthCheckResponse_ServingStatus } from "../../gen/grpc/health/v1/health_pb.js";
import { itInProcess } from "../support/external-server.js";
import { createGrpcJsClient } from "../support/grpc-js-client.js";
import { startTestServer, type TestServer } from "../support/test-server.js";

let t: TestServer;

beforeAll(async () => {
  t = await startTestServer();
});
afterAll(async () => {
  await t?.stop();
});

describe("server skeleton", () => {
  it("answers GetVersion over Connect's gRPC transport and over grpc-js", async () => {
    const viaConnect = await t.admin.getVersion({});
    expect(viaConnect.controlPlaneVersion?.Version).toMatch(/^\d+\.\d+\.\d+/);
    expect(viaConnect.controlPlaneVersion?.BuildTime).not.toBe("");
    const viaGrpcJs = await t.grpcJs.unary("getVersion", {});
    expect(viaGrpcJs.controlPlaneVersion?.Version).toBe(viaConnect.controlPlaneVersion?.Version);
  });

  it("answers GetDomains with the default domains on both clients", async () => {
    const want = [
      { id: "development", name: "development" },
      { id: "staging", name: "staging" },
      { id: "production", name: "production" },
    ];
    const a = await t.admin.getDomains({});
    expect(a.domains.map((d) => ({ id: d.id, name: d.name }))).toEqual(want);
    const b = await t.grpcJs.unary("getDomains", {});
    expect(b.domains.map((d) => ({ id: d.id, name: d.name }))).toEqual(want);
  });

  itInProcess("serves configured domains", async () => {
    const custom = await startTestServer({ env: { PETREL_DOMAINS: "dev,prod" } });
    try {
      const r = await custom.admin.getDomains({});
      expect(r.domains.map((d) => d.id)).toEqual(["dev", "prod"]);
    } finally {
      await custom.stop();
    }
  });

  it("answers UNIMPLEMENTED for rpcs it does not serve, on both clients", async () => {
    // Every rpc of the served services is built now: a method outside them (AgentMetadataService is not served) answers
    // HTTP 404, which both clients read as UNIMPLEMENTED.
    const getData = DataProxyService.method.getData;
    const unserved = {
      ...getData,
      name: "ListAgents",
      parent: { ...DataProxyService, typeName: "flyteidl.service.AgentMetadataService" },
    } as typeof getData;
    const connect = createGrpcTransport({ baseUrl: `http://${t.grpcAddress}` });
    const err = await connect
      .unary(unserved, undefined, undefined, undefined, { flyteUrl: "" })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectError);
    expect((err as ConnectError).code).toBe(Code.Unimplemented);
    const raw = new grpc.Client(t.grpcAddress, grpc.credentials.createInsecure());
    try {
      const code = await new Promise((resolve) =>
        raw.makeUnaryRequest(
          "/flyteidl.service.AgentMetadataService/ListAgents",
          (b: Buffer) => b,
          (b: Buffer) => b,
          Buffer.alloc(0),
          (e) => resolve(e?.code),
        ),
      );
      expect(code).toBe(grpc.status.UNIMPLEMENTED);
    } finally {
      raw.close();
    }
  });

  it("serves Connect and gRPC-Web on the HTTP/1.1 port", async () => {
    const connect = createClient(
      AdminService,
      createConnectTransport({ baseUrl: t.httpBaseUrl, httpVersion: "1.1" }),
    );
    expect((await connect.getDomains({})).domains).toHaveLength(3);
    const web = createClient(
      AdminService,
      createGrpcWebTransport({ baseUrl: t.httpBaseUrl, httpVersion: "1.1" }),
    );
    expect((await web.getVersion({})).controlPlaneVersion?.Version).not.toBe("");
  });

  itInProcess("finishes HTTP/1.1 calls: stopping after them does not wait out the grace period", async () => {
    // Connect over HTTP/1.1 used to leave every call pending (it waited for a response event HTTP/1.1 never emits).
    const own = await startTestServer();
    try {
      const connect = createClient(
        AdminService,
        createConnectTransport({ baseUrl: own.httpBaseUrl, httpVersion: "1.1" }),
      );
      await connect.getVersion({});
      await expect(connect.getProject({ id: "nope" })).rejects.toThrow();
      const started = performance.now();
      await own.server.stop(20_000);
      expect(performance.now() - started).toBeLessThan(10_000);
    } finally {
      await own.stop();
    }
  });

  it("answers grpc.health.v1 and /healthz", async () => {
    const health = createGrpcJsClient(Health, t.grpcAddress);
    try {
      const r = await health.unary("check", { service: "" });
      expect(r.status).toBe(HealthCheckResponse_ServingStatus.SERVING);
      const admin = await health.unary("check", { service: "flyteidl.service.AdminService" });
      expect(admin.status).toBe(HealthCheckResponse_ServingStatus.SERVING);
      const unknown = await health.unary("check", { service: "nope.Service" }).catch((e: unknown) => e);
      expect((unknown as grpc.ServiceError).code).toBe(grpc.status.NOT_FOUND);
    } finally {
      health.close();
    }
    const res = await fetch(`${t.httpBaseUrl}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("ok\n");
  });
});
