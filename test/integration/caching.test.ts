import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CatalogCacheStatus } from "../../gen/flyteidl/core/catalog_pb.js";
import { WorkflowExecution_Phase as W } from "../../gen/flyteidl/core/execution_pb.js";
import { intType, literalInt, taskId, taskTemplate } from "../fixtures/flyte-builders.js";
import { eventually } from "../support/eventually.js";
import { startTestServer, type TestServer } from "../support/test-server.js";

let t: TestServer;
const P = { project: "flytesnacks", domain: "development" };

beforeAll(async () => {
  t = await startTestServer();
  await t.admin.registerProject({ project: { id: "flytesnacks", name: "flytesnacks" } });
  const cached = (version: string) =>
    taskTemplate({
      inputs: { a: intType(), noise: intType() },
      outputs: { o: intType() },
      command: ["sh", "-c", "echo $(( {{.inputs.a}} * 10 )) > {{.outputPrefix}}/o"],
      edit: (x) => {
        if (x.metadata !== undefined) {
          x.metadata.discoverable = true;
          x.metadata.discoveryVersion = "1";
          x.metadata.cacheIgnoreInputVars = ["noise"];
        }
        if (x.id !== undefined) x.id.version = version;
      },
    });
  await t.admin.createTask({ id: taskId("slow.square"), spec: { template: cached("v1") } });
  await t.admin.createTask({ id: taskId("slow.square", "v2"), spec: { template: cached("v2") } });
});
afterAll(async () => {
  await t?.stop();
});

async function runTask(version: string, a: number, noise: number, overwriteCache = false) {
  const res = await t.admin.createExecution({
    ...P,
    spec: { launchPlan: taskId("slow.square", version), overwriteCache },
    inputs: { literals: { a: literalInt(a), noise: literalInt(noise) } },
  });
  const e = await eventually(
    () => t.admin.getExecution({ id: res.id }),
    (x) => [W.SUCCEEDED, W.FAILED].includes(x.closure?.phase ?? 0),
  );
  expect(e.closure?.phase).toBe(W.SUCCEEDED);
  const node = await t.admin.getNodeExecution({ id: { nodeId: "slowsquare", executionId: res.id } });
  const status =
    node.closure?.targetMetadata.case === "taskNodeMetadata"
      ? node.closure.targetMetadata.value.cacheStatus
      : undefined;
  const attempts = await t.admin.listTaskExecutions({
    nodeExecutionId: { nodeId: "slowsquare", executionId: res.id },
    limit: 5,
  });
  const out = (await t.admin.getExecutionData({ id: res.id })).fullOutputs?.literals.o;
  return { status, attempts: attempts.taskExecutions.length, out };
}

describe("task output caching", () => {
  it("populates, hits across executions and task versions, ignores listed inputs, and overwrite_cache re-runs", async () => {
    expect(await runTask("v1", 3, 1)).toEqual({
      status: CatalogCacheStatus.CACHE_POPULATED,
      attempts: 1,
      out: literalInt(30),
    });
    expect(await runTask("v1", 3, 2)).toEqual({
      status: CatalogCacheStatus.CACHE_HIT,
      attempts: 0,
      out: literalInt(30),
    });
    expect(await runTask("v2", 3, 9)).toEqual({
      status: CatalogCacheStatus.CACHE_HIT,
      attempts: 0,
      out: literalInt(30),
    });
    expect((await runTask("v1", 4, 1)).status).toBe(CatalogCacheStatus.CACHE_POPULATED);
    expect(await runTask("v1", 3, 1, true)).toEqual({
      status: CatalogCacheStatus.CACHE_POPULATED,
      attempts: 1,
      out: literalInt(30),
    });
  });

  it("serializable caches let only one concurrent execution compute; the others reuse its result", async () => {
    const { mkdtempSync, readFileSync, chmodSync } = await import("node:fs");
    const { tmpdir } = await import("node:os");
    const dir = mkdtempSync(`${tmpdir()}/petrel-serial-`);
    chmodSync(dir, 0o777);
    await t.admin.createTask({
      id: taskId("serial"),
      spec: {
        template: taskTemplate({
          inputs: { a: intType() },
          outputs: { o: intType() },
          command: [
            "sh",
            "-c",
            `echo run >> ${dir}/ledger; sleep 0.5; echo {{.inputs.a}} > {{.outputPrefix}}/o`,
          ],
          edit: (x) => {
            if (x.metadata !== undefined) {
              x.metadata.discoverable = true;
              x.metadata.discoveryVersion = "1";
              x.metadata.cacheSerializable = true;
            }
          },
        }),
      },
    });
    const ids = await Promise.all(
      [1, 2, 3].map(
        async () =>
          (
            await t.admin.createExecution({
              ...P,
              spec: { launchPlan: taskId("serial") },
              inputs: { literals: { a: literalInt(5) } },
            })
          ).id,
      ),
    );
    const statuses = [];
    for (const id of ids) {
      const e = await eventually(
        () => t.admin.getExecution({ id }),
        (x) => [W.SUCCEEDED, W.FAILED].includes(x.closure?.phase ?? 0),
      );
      expect(e.closure?.phase).toBe(W.SUCCEEDED);
      expect((await t.admin.getExecutionData({ id })).fullOutputs?.literals.o).toEqual(literalInt(5));
      const node = await t.admin.getNodeExecution({ id: { nodeId: "serial", executionId: id } });
      statuses.push(
        node.closure?.targetMetadata.case === "taskNodeMetadata"
          ? node.closure.targetMetadata.value.cacheStatus
          : undefined,
      );
    }
    expect(readFileSync(`${dir}/ledger`, "utf8").trim().split("\n")).toHaveLength(1);
    expect(statuses.sort()).toEqual([
      CatalogCacheStatus.CACHE_HIT,
      CatalogCacheStatus.CACHE_HIT,
      CatalogCacheStatus.CACHE_POPULATED,
    ]);
  });
});
