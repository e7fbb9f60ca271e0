// A server that stops cleanly (SIGTERM, rolling restarts) while a task runs does not fail the task: the interrupted
// attempt goes back to the queue, and the next server runs it again as a lost attempt (a system retry).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ExecutionError_ErrorKind,
  TaskExecution_Phase,
  WorkflowExecution_Phase,
} from "../../gen/flyteidl/core/execution_pb.js";
import { intType, literalInt, stringType, taskId, taskTemplate } from "../fixtures/flyte-builders.js";
import { eventually } from "../support/eventually.js";
import { startTestServer, type TestServer } from "../support/test-server.js";

const P = { project: "flytesnacks", domain: "development" };
let t: TestServer;

beforeAll(async () => {
  t = await startTestServer();
  await t.admin.registerProject({ project: { id: P.project, name: P.project } });
});

afterAll(async () => {
  await t?.stop();
});

describe("a clean stop while a task runs", () => {
  it("hands the attempt back instead of failing it, and the next server finishes the execution", async () => {
    await t.admin.createTask({
      id: taskId("slow"),
      spec: {
        template: taskTemplate({
          inputs: { a: intType() },
          outputs: { o: stringType() },
          command: ["sh", "-c", "sleep 6; echo done > {{.outputPrefix}}/o"],
        }),
      },
    });
    const res = await t.admin.createExecution({
      ...P,
      spec: { launchPlan: taskId("slow") },
      inputs: { literals: { a: literalInt(1) } },
    });
    const attempts = () =>
      t.admin
        .listTaskExecutions({ nodeExecutionId: { nodeId: "slow", executionId: res.id }, limit: 10 })
        .then((l) => l.taskExecutions)
        .catch(() => []);
    await eventually(attempts, (l) => l[0]?.closure?.phase === TaskExecution_Phase.RUNNING);
    t = await t.restart();
    const done = await eventually(
      () => t.admin.getExecution({ id: res.id }),
      (e) =>
        e.closure?.phase === WorkflowExecution_Phase.SUCCEEDED ||
        e.closure?.phase === WorkflowExecution_Phase.FAILED,
      30_000,
    );
    expect(done.closure?.phase).toBe(WorkflowExecution_Phase.SUCCEEDED);
    const all = await attempts();
    // Attempt 0 was interrupted by the stop: recorded as a lost attempt (system), never as a user failure.
    expect(all.map((a) => a.closure?.phase)).toEqual([
      TaskExecution_Phase.RETRYABLE_FAILED,
      TaskExecution_Phase.SUCCEEDED,
    ]);
    expect(all[0]?.closure?.outputResult).toMatchObject({
      case: "error",
      value: { kind: ExecutionError_ErrorKind.SYSTEM },
    });
  });
});
