import type { Interceptor } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  EntityAlreadyExistsError,
  EntityNotFoundError,
  InvalidInputError,
  SynchronousClient,
  SystemUnavailableError,
} from "../../../client/index.js";
import { Sort_Direction } from "../../../gen/flyteidl/admin/common_pb.js";
import { intType, literalInt, taskId, taskTemplate } from "../../fixtures/flyte-builders.js";
import { startTestServer, type TestServer } from "../../support/test-server.js";

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(async () => {
  await t?.stop();
});

describe("SynchronousClient", () => {
  for (const transport of ["grpc", "connect"] as const) {
    it(`calls every service over ${transport}, with typed errors`, async () => {
      const endpoint = transport === "grpc" ? t.grpcAddress : t.httpBaseUrl;
      const c = SynchronousClient.connect({ endpoint, insecure: true, transport });
      const project = `sc-${transport}`;
      await c.registerProject({ project: { id: project, name: project } });
      await expect(c.registerProject({ project: { id: project, name: project } })).rejects.toBeInstanceOf(
        EntityAlreadyExistsError,
      );
      await expect(c.getProject({ id: "ghost" })).rejects.toBeInstanceOf(EntityNotFoundError);
      const err = await c.listTasks({ id: { project }, limit: 1 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(InvalidInputError);
      expect((err as InvalidInputError).message).toBe("missing domain");
      expect((await c.getVersion({})).controlPlaneVersion?.Version).not.toBe("");
      const signals = await c.listSignals({
        workflowExecutionId: { project, domain: "development", name: "none" },
        limit: 5,
      });
      expect(signals.signals).toEqual([]);
    });
  }

  it("pages with list<X>Paginated and follows every token with list<X>All", async () => {
    const c = SynchronousClient.connect({ endpoint: t.grpcAddress, insecure: true });
    await c.registerProject({ project: { id: "paging", name: "paging" } });
    for (let i = 0; i < 7; i++) {
      await c.createTask({
        id: taskId("t", `v${i}`, "paging"),
        spec: { template: taskTemplate({ inputs: { a: intType() } }) },
      });
    }
    const page = await c.listTasksPaginated({
      project: "paging",
      domain: "development",
      name: "t",
      limit: 3,
    });
    expect(page.items.map((x) => x.id?.version)).toEqual(["v6", "v5", "v4"]);
    expect(page.token).not.toBe("");
    const all = [];
    for await (const task of c.listTasksAll({
      project: "paging",
      domain: "development",
      limit: 2,
      sortBy: { key: "version", direction: Sort_Direction.ASCENDING },
    })) {
      all.push(task.id?.version);
    }
    expect(all).toEqual(["v0", "v1", "v2", "v3", "v4", "v5", "v6"]);
    const names = [];
    for await (const id of c.listTaskIdsAll({ project: "paging", domain: "development", limit: 1 }))
      names.push(id.name);
    expect(names).toEqual(["t"]);
    const res = await c.createExecution({
      project: "paging",
      domain: "development",
      spec: { launchPlan: taskId("t", "v0", "paging") },
      inputs: { literals: { a: literalInt(1) } },
    });
    const seen = [];
    for await (const e of c.watchExecution({ id: res.id })) seen.push(e.kind.case);
    expect(seen[0]).toBe("execution");
  });

  it("retries idempotent calls on UNAVAILABLE and then reports SystemUnavailableError", async () => {
    const calls: string[] = [];
    const counting: Interceptor = (next) => (req) => {
      calls.push(req.method.name);
      return next(req);
    };
    const c = SynchronousClient.fromTransport(
      createGrpcTransport({ baseUrl: "http://127.0.0.1:1", interceptors: [counting] }),
      3,
    );
    await expect(c.getVersion({})).rejects.toBeInstanceOf(SystemUnavailableError);
    expect(calls).toEqual(["GetVersion", "GetVersion", "GetVersion"]);
    calls.length = 0;
    await expect(c.registerProject({ project: { id: "x", name: "x" } })).rejects.toBeInstanceOf(
      SystemUnavailableError,
    );
    expect(calls).toEqual(["RegisterProject"]);
  });
});
