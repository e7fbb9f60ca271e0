// How task processes are run: terminated on request, the data_config contract (files in, files out), outputs that
// are missing or ill-typed, and task and node timeouts.
import { create } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  NodeExecution_Phase,
  TaskExecution_Phase,
  WorkflowExecution_Phase,
} from "../../gen/flyteidl/core/execution_pb.js";
import { NodeMetadataSchema } from "../../gen/flyteidl/core/workflow_pb.js";
import {
  bind,
  executionRequest,
  intType,
  launchPlanId,
  literalInt,
  literalString,
  registerEchoProject,
  registerWorkflow,
  stringType,
  taskId,
  taskNode,
  taskTemplate,
  waitDone,
  workflowId,
  workflowTemplate,
} from "../fixtures/flyte-builders.js";
import { eventually } from "../support/eventually.js";
import { expectCode } from "../support/expect-error.js";
import { startTestServer, type TestServer } from "../support/test-server.js";

let t: TestServer;

beforeAll(async () => {
  t = await startTestServer();
  await registerEchoProject(t.admin);
});
afterAll(async () => {
  await t?.stop();
});

describe("executions: task processes", () => {
  it("terminates a running process, and terminal executions refuse", async () => {
    await t.admin.createTask({
      id: taskId("sleepy"),
      spec: {
        template: taskTemplate({
          outputs: { o: stringType() },
          inputs: { a: intType() },
          command: ["sh", "-c", "sleep 30; echo done > {{.outputPrefix}}/o"],
        }),
      },
    });
    const res = await t.admin.createExecution(executionRequest(taskId("sleepy"), { a: literalInt(1) }));
    await eventually(
      () =>
        t.admin
          .listTaskExecutions({ nodeExecutionId: { nodeId: "sleepy", executionId: res.id }, limit: 1 })
          .catch(() => undefined),
      (l) => l?.taskExecutions[0]?.closure?.phase === TaskExecution_Phase.RUNNING,
    );
    await t.admin.terminateExecution({ id: res.id, cause: "changed my mind" });
    const done = await waitDone(t.admin, res.id?.name ?? "");
    expect(done.closure?.phase).toBe(WorkflowExecution_Phase.ABORTED);
    expect(done.closure?.outputResult).toMatchObject({
      case: "abortMetadata",
      value: { cause: "changed my mind" },
    });
    const attempts = await t.admin.listTaskExecutions({
      nodeExecutionId: { nodeId: "sleepy", executionId: res.id },
      limit: 1,
    });
    expect(attempts.taskExecutions[0]?.closure?.phase).toBe(TaskExecution_Phase.ABORTED);
    const err = await expectCode(
      t.admin.terminateExecution({ id: res.id, cause: "again" }),
      Code.FailedPrecondition,
      "Cannot abort an already terminated workflow execution",
    );
    expect(err.details).toHaveLength(1);
  });

  it("follows the data_config contract: files in, files out, paths mapped to the attempt", async () => {
    await t.admin.createTask({
      id: taskId("raw"),
      spec: {
        template: taskTemplate({
          type: "raw-container",
          inputs: { n: intType(), who: stringType() },
          outputs: { doubled: intType(), greeting: stringType() },
          command: [
            "sh",
            "-c",
            'echo $(( $(cat /var/inputs/n) * 2 )) > /var/outputs/doubled && printf "hi %s" "$(cat /var/inputs/who)" > /var/outputs/greeting && test -s /var/inputs/inputs.pb && test -s /var/inputs/inputs.json',
          ],
          edit: (x) => {
            if (x.target.case === "container") {
              x.target.value.dataConfig = {
                $typeName: "flyteidl.core.DataLoadingConfig",
                enabled: true,
                inputPath: "/var/inputs",
                outputPath: "/var/outputs",
                format: 0,
              };
            }
          },
        }),
      },
    });
    const res = await t.admin.createExecution(
      executionRequest(taskId("raw"), { n: literalInt(21), who: literalString("flyte") }),
    );
    const done = await waitDone(t.admin, res.id?.name ?? "");
    expect(done.closure?.phase, JSON.stringify(done.closure?.outputResult.value)).toBe(
      WorkflowExecution_Phase.SUCCEEDED,
    );
    const out = await t.admin.getExecutionData({ id: res.id });
    expect(out.fullOutputs?.literals.doubled).toEqual(literalInt(42));
    expect(out.fullOutputs?.literals.greeting).toEqual(literalString("hi flyte"));
  });

  it("reports missing or ill-typed outputs as a clear user error", async () => {
    await t.admin.createTask({
      id: taskId("liar"),
      spec: {
        template: taskTemplate({
          inputs: { a: intType() },
          outputs: { o: intType() },
          command: ["sh", "-c", "echo nope > {{.outputPrefix}}/o"],
        }),
      },
    });
    const res = await t.admin.createExecution(executionRequest(taskId("liar"), { a: literalInt(1) }));
    const done = await waitDone(t.admin, res.id?.name ?? "");
    const err = done.closure?.outputResult.case === "error" ? done.closure.outputResult.value : undefined;
    // Retryable (as propeller treats unreadable outputs): the budget of one attempt is spent.
    expect(err?.code).toBe("RetriesExhausted|OutputTypeMismatch");
    expect(err?.message).toContain("output [o]: expected an integer");
  });

  it("kills a process at the task timeout and retries; a node timeout ends the node TIMED_OUT", async () => {
    await t.admin.createTask({
      id: taskId("stuck"),
      spec: {
        template: taskTemplate({
          inputs: { a: intType() },
          outputs: { o: intType() },
          command: ["sh", "-c", "sleep 30"],
          retries: 1,
          edit: (x) => {
            if (x.metadata !== undefined)
              x.metadata.timeout = { $typeName: "google.protobuf.Duration", seconds: 0n, nanos: 300_000_000 };
          },
        }),
      },
    });
    const res = await t.admin.createExecution(executionRequest(taskId("stuck"), { a: literalInt(1) }));
    const done = await waitDone(t.admin, res.id?.name ?? "");
    expect(done.closure?.phase).toBe(WorkflowExecution_Phase.FAILED);
    const attempts = await t.admin.listTaskExecutions({
      nodeExecutionId: { nodeId: "stuck", executionId: res.id },
      limit: 5,
    });
    expect(attempts.taskExecutions.map((a) => a.closure?.phase)).toEqual([
      TaskExecution_Phase.RETRYABLE_FAILED,
      TaskExecution_Phase.FAILED,
    ]);
    expect(attempts.taskExecutions[1]?.closure?.outputResult).toMatchObject({
      case: "error",
      value: { code: "TaskTimedOut" },
    });

    const node = taskNode("n0", taskId("sleepy"), [bind("a", "", "x")]);
    node.metadata = create(NodeMetadataSchema, { name: "n0", timeout: { seconds: 0n, nanos: 400_000_000 } });
    await registerWorkflow(
      t.admin,
      workflowId("node-timeout"),
      workflowTemplate({ inputs: { x: intType() }, nodes: [node] }),
    );
    await t.admin.createExecution(
      executionRequest(launchPlanId("node-timeout"), { x: literalInt(1) }, "node-timeout"),
    );
    const e = await waitDone(t.admin, "node-timeout");
    expect(e.closure?.phase).toBe(WorkflowExecution_Phase.FAILED);
    const n0 = await t.admin.getNodeExecution({ id: { nodeId: "n0", executionId: e.id } });
    expect(n0.closure?.phase).toBe(NodeExecution_Phase.TIMED_OUT);
    const a0 = await t.admin.listTaskExecutions({
      nodeExecutionId: { nodeId: "n0", executionId: e.id },
      limit: 5,
    });
    expect(a0.taskExecutions.map((a) => a.closure?.phase)).toEqual([TaskExecution_Phase.ABORTED]);
  });
});
