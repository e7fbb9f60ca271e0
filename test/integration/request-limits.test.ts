// The limits on one request, against the real server, over gRPC (grpc-js and Connect's gRPC client) and Connect (on
// the HTTP/1.1 port): an oversized message, a list limit above the cap, a filter string too long, literals nested too
// deeply, and the per-principal rate limit with its retry hint.
import { create } from "@bufbuild/protobuf";
import { type Client, Code, ConnectError, createClient, type Interceptor } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import type * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Literal, LiteralSchema } from "../../gen/flyteidl/core/literals_pb.js";
import { AdminService } from "../../gen/flyteidl/service/admin_pb.js";
import { Health } from "../../gen/grpc/health/v1/health_pb.js";
import { hashApiKey } from "../../server/auth/api-keys.js";
import { launchPlanId, literalInt, taskId, taskTemplate } from "../fixtures/flyte-builders.js";
import { createGrpcJsClient } from "../support/grpc-js-client.js";
import { startTestServer, type TestServer } from "../support/test-server.js";

const P = { project: "flytesnacks", domain: "development" };

/** The code and message of a failed call, from a Connect or a grpc-js error. */
async function failure(
  call: Promise<unknown>,
): Promise<{ code: number; message: string; metadata: Headers }> {
  try {
    await call;
  } catch (err) {
    if (err instanceof ConnectError)
      return { code: err.code, message: err.rawMessage, metadata: err.metadata };
    const e = err as grpc.ServiceError;
    const metadata = new Headers();
    for (const [k, v] of Object.entries(e.metadata?.getMap() ?? {})) metadata.set(k, String(v));
    return { code: e.code, message: e.details, metadata };
  }
  throw new Error("expected the call to fail");
}

/** A collection nested `depth` levels deep around an integer. */
function nested(depth: number): Literal {
  let lit = literalInt(1);
  for (let i = 1; i < depth; i++) {
    lit = create(LiteralSchema, { value: { case: "collection", value: { literals: [lit] } } });
  }
  return lit;
}

describe("request limits", () => {
  let t: TestServer;
  let clients: Record<string, Client<typeof AdminService>>;
  let grpcJs: ReturnType<typeof createGrpcJsClient<typeof AdminService>>;

  beforeAll(async () => {
    t = await startTestServer({
      env: {
        PETREL_ENGINE: "off",
        PETREL_MAX_REQUEST_SIZE: "64Ki",
        PETREL_MAX_LIST_LIMIT: "2",
        PETREL_MAX_FILTER_LENGTH: "64",
        PETREL_MAX_LITERAL_DEPTH: "4",
      },
    });
    grpcJs = t.grpcJs;
    clients = {
      grpc: t.admin,
      connect: createClient(
        AdminService,
        createConnectTransport({ baseUrl: t.httpBaseUrl, httpVersion: "1.1" }),
      ),
    };
    await t.admin.registerProject({ project: { id: P.project, name: P.project } });
    for (const name of ["a", "b", "c", "d", "e"]) {
      await t.admin.createTask({ id: taskId(name), spec: { template: taskTemplate() } });
    }
  });
  afterAll(async () => {
    await t?.stop();
  });

  const each = () =>
    [
      ["grpc-js", (m: string, r: object) => grpcJs.unary(m as never, r as never)],
      [
        "connect-grpc",
        (m: string, r: object) =>
          (clients.grpc as never as Record<string, (r: object) => Promise<unknown>>)[m]?.(r),
      ],
      [
        "connect",
        (m: string, r: object) =>
          (clients.connect as never as Record<string, (r: object) => Promise<unknown>>)[m]?.(r),
      ],
    ] as const;

  it("answers an oversized request RESOURCE_EXHAUSTED and keeps the connection", async () => {
    for (const [name, call] of each()) {
      const big = { project: { id: "big", name: "big", description: "x".repeat(100 * 1024) } };
      const f = await failure(call("registerProject", big) as Promise<unknown>);
      expect(f.code, name).toBe(Code.ResourceExhausted);
      expect(f.message, name).toMatch(/larger than configured readMaxBytes 65536/);
      await call("getVersion", {});
    }
  });

  it("lowers a list limit above the cap and pages the rest with tokens", async () => {
    for (const [name, call] of each()) {
      const names: string[] = [];
      let token = "";
      let pages = 0;
      do {
        const page = (await call("listTasks", { id: P, limit: 100, token })) as {
          tasks: { id?: { name: string } }[];
          token: string;
        };
        expect(page.tasks.length, name).toBeLessThanOrEqual(2);
        names.push(...page.tasks.map((x) => x.id?.name ?? ""));
        token = page.token;
        pages++;
      } while (token !== "");
      expect(names.sort(), name).toEqual(["a", "b", "c", "d", "e"]);
      expect(pages, name).toBe(3);
    }
  });

  it("refuses a filter string longer than allowed", async () => {
    for (const [name, call] of each()) {
      const filters = `eq(name,${"x".repeat(60)})`;
      const f = await failure(call("listTasks", { id: P, limit: 10, filters }) as Promise<unknown>);
      expect(f, name).toMatchObject({
        code: Code.InvalidArgument,
        message: "invalid value for filters: longer than 64 characters",
      });
    }
  });

  it("refuses literals nested deeper than allowed, naming where", async () => {
    for (const [name, call] of each()) {
      const request = {
        ...P,
        name: "deep",
        spec: { launchPlan: launchPlanId("none") },
        inputs: { literals: { x: nested(5) } },
      };
      const f = await failure(call("createExecution", request) as Promise<unknown>);
      expect(f, name).toMatchObject({
        code: Code.InvalidArgument,
        message:
          'literals nest more than 4 levels deep (at inputs.literals["x"].collection.literals[0].collection.literals[0]' +
          ".collection.literals[0].collection.literals[0])",
      });
      // Four levels pass the limit (and fail later, for the launch plan that does not exist).
      const ok = { ...request, inputs: { literals: { x: nested(4) } } };
      expect((await failure(call("createExecution", ok) as Promise<unknown>)).code, name).toBe(Code.NotFound);
    }
  });
});

describe("the per-principal rate limit", () => {
  let t: TestServer;
  const keys = { alice: "alice-key-0123456789", bob: "bob-key-0123456789" };

  beforeAll(async () => {
    t = await startTestServer({
      env: {
        PETREL_ENGINE: "off",
        PETREL_RATE_LIMIT: "1",
        PETREL_RATE_LIMIT_BURST: "3",
        PETREL_API_KEYS: `alice:${hashApiKey(keys.alice)},bob:${hashApiKey(keys.bob)}`,
      },
    });
  });
  afterAll(async () => {
    await t?.stop();
  });

  const as =
    (key: string): Interceptor =>
    (next) =>
    (req) => {
      req.header.set("authorization", `Bearer ${key}`);
      return next(req);
    };

  it("answers RESOURCE_EXHAUSTED with a retry hint past the burst, per principal, over gRPC and Connect", async () => {
    const grpcJs = createGrpcJsClient(AdminService, t.grpcAddress);
    const alice = createClient(
      AdminService,
      createGrpcTransport({ baseUrl: `http://${t.grpcAddress}`, interceptors: [as(keys.alice)] }),
    );
    const aliceConnect = createClient(
      AdminService,
      createConnectTransport({ baseUrl: t.httpBaseUrl, httpVersion: "1.1", interceptors: [as(keys.alice)] }),
    );
    const bob = createClient(
      AdminService,
      createConnectTransport({ baseUrl: t.httpBaseUrl, httpVersion: "1.1", interceptors: [as(keys.bob)] }),
    );
    try {
      // GetVersion is public (no principal: the peer address is its key); ListProjects needs a token.
      for (let i = 0; i < 3; i++) await alice.listProjects({});
      const hint = /^rate limit exceeded for principal alice: retry in \d+ ms$/;
      const viaGrpc = await failure(alice.listProjects({}));
      expect(viaGrpc).toMatchObject({ code: Code.ResourceExhausted, message: expect.stringMatching(hint) });
      expect(Number(viaGrpc.metadata.get("grpc-retry-pushback-ms"))).toBeGreaterThan(0);
      const viaConnect = await failure(aliceConnect.listProjects({}));
      expect(viaConnect).toMatchObject({
        code: Code.ResourceExhausted,
        message: expect.stringMatching(hint),
      });
      expect(viaConnect.metadata.get("retry-after")).toBe("1");
      const viaGrpcJs = await failure(
        grpcJs.unary("listProjects", {}, { authorization: `Bearer ${keys.alice}` }),
      );
      expect(viaGrpcJs).toMatchObject({ code: Code.ResourceExhausted, message: expect.stringMatching(hint) });
      expect(Number(viaGrpcJs.metadata.get("grpc-retry-pushback-ms"))).toBeGreaterThan(0);
      // Another principal has a bucket of its own; health checks are never limited.
      await bob.listProjects({});
      const health = createClient(Health, createGrpcTransport({ baseUrl: `http://${t.grpcAddress}` }));
      for (let i = 0; i < 5; i++) await health.check({});
      // Calls without a principal (public rpcs) are counted by peer address.
      const anonymous = await failure(
        (async () => {
          for (let i = 0; i < 10; i++) await t.admin.getVersion({});
        })(),
      );
      expect(anonymous.message).toMatch(/^rate limit exceeded for peer 127\.0\.0\.1: retry in \d+ ms$/);
    } finally {
      grpcJs.close();
    }
  });
});
