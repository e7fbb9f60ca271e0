import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SynchronousClient, Worker } from "../../../client/index.js";
import {
  TaskExecution_Phase as T,
  WorkflowExecution_Phase as W,
} from "../../../gen/flyteidl/core/execution_pb.js";
import { intType, literalInt, stringType, taskId, taskTemplate } from "../../fixtures/flyte-builders.js";
import { eventually } from "../../support/eventually.js";
import { startTestServer, type TestServer } from "../../support/test-server.js";

let t: TestServer;
let client: SynchronousClient;
const P = { project: "workers", domain: "development" };

const workerTask = (name: string, outputs: Record<string, ReturnType<typeof intType>>) =>
  client.createTask({
    id: taskId(name, "v1", "workers"),
    spec: {
      template: taskTemplate({
        type: "worker",
        inputs: { a: intType() },
        outputs,
        edit: (x) => {
          x.target = { case: undefined };
        },
      }),
    },
  });

beforeAll(async () => {
  t = await startTestServer({ env: { PETREL_ENGINE_LEASE_MS: "1000" } });
  client = SynchronousClient.connect({ endpoint: t.grpcAddress, insecure: true });
  await client.registerProject({ project: { id: "workers", name: "workers" } });
  await workerTask("square", { o: intType() });
  await workerTask("explode", { o: intType() });
  await workerTask("greet", { s: stringType() });
});
afterAll(async () => {
  await t?.stop();
});

const run = async (task: string, a: number) => {
  const res = await client.createExecution({
    ...P,
    spec: { launchPlan: taskId(task, "v1", "workers") },
    inputs: { literals: { a: literalInt(a) } },
  });
  return eventually(
    () => client.getExecution({ id: res.id }),
    (e) => [W.SUCCEEDED, W.FAILED].includes(e.closure?.phase ?? 0),
    20_000,
    50,
  );
};

describe("workers", () => {
  it("run TypeScript function tasks polled over WorkerService, with typed outputs and user errors", async () => {
    const worker = new Worker({
      client,
      concurrency: 2,
      pollWaitMs: 500,
      tasks: {
        square: ({ a }) => ({ o: (a as number) ** 2 }),
        explode: () => {
          throw new RangeError("too big to handle");
        },
      },
    }).start();
    try {
      const ok = await run("square", 9);
      expect(ok.closure?.phase).toBe(W.SUCCEEDED);
      expect((await client.getExecutionData({ id: ok.id })).fullOutputs?.literals.o).toEqual(literalInt(81));
      const bad = await run("explode", 1);
      expect(bad.closure?.phase).toBe(W.FAILED);
      const err = bad.closure?.outputResult.case === "error" ? bad.closure.outputResult.value : undefined;
      expect(err?.code).toBe("RetriesExhausted|RangeError");
      expect(err?.message).toContain("too big to handle");
      expect(err?.message).toContain("worker.test.ts");
    } finally {
      await worker.stop();
    }
  });

  it("a lost worker's attempt is retried as a system failure on another worker", async () => {
    const res = await client.createExecution({
      ...P,
      spec: { launchPlan: taskId("greet", "v1", "workers") },
      inputs: { literals: { a: literalInt(1) } },
    });
    // A worker takes the attempt and vanishes without heartbeats or a result.
    const lost = await client.pollTask({ workerId: "doomed", taskNames: ["greet"], waitMs: 5_000 });
    expect(lost.lease?.taskExecutionId?.retryAttempt).toBe(0);
    const worker = new Worker({
      client,
      pollWaitMs: 500,
      tasks: { greet: ({ a }) => ({ s: `hello ${a}` }) },
    }).start();
    try {
      const e = await eventually(
        () => client.getExecution({ id: res.id }),
        (x) => [W.SUCCEEDED, W.FAILED].includes(x.closure?.phase ?? 0),
        20_000,
        50,
      );
      expect(e.closure?.phase).toBe(W.SUCCEEDED);
      const attempts = await client.listTaskExecutions({
        nodeExecutionId: { nodeId: "greet", executionId: res.id },
        limit: 5,
      });
      expect(attempts.taskExecutions.map((a) => a.closure?.phase)).toEqual([T.RETRYABLE_FAILED, T.SUCCEEDED]);
      await expect(
        client.completeTask({
          leaseId: lost.lease?.leaseId ?? "",
          result: { case: "outputs", value: { literals: {} } },
        }),
      ).rejects.toThrow(/is no longer held/);
    } finally {
      await worker.stop();
    }
  });
});
