import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ExecutionMetadata_ExecutionMode } from "../../gen/flyteidl/admin/execution_pb.js";
import {
  NodeExecution_Phase,
  TaskExecution_Phase,
  WorkflowExecution_Phase,
} from "../../gen/flyteidl/core/execution_pb.js";
import { ResourceType } from "../../gen/flyteidl/core/identifier_pb.js";
import {
  bind,
  intType,
  launchPlanId,
  literalInt,
  literalString,
  stringType,
  taskId,
  taskNode,
  taskTemplate,
  workflowId,
  workflowTemplate,
} from "../fixtures/flyte-builders.js";
import { eventually } from "../support/eventually.js";
import { expectCode } from "../support/expect-error.js";
import { startTestServer, type TestServer } from "../support/test-server.js";

let t: TestServer;
const P = { project: "flytesnacks", domain: "development" };
const TERMINAL = [
  WorkflowExecution_Phase.SUCCEEDED,
  WorkflowExecution_Phase.FAILED,
  WorkflowExecution_Phase.ABORTED,
];

async function waitDone(name: string) {
  return eventually(
    () => t.admin.getExecution({ id: { ...P, name } }),
    (e) => TERMINAL.includes(e.closure?.phase ?? 0),
  );
}

beforeAll(async () => {
  t = await startTestServer();
  await t.admin.registerProject({ project: { id: "flytesnacks", name: "flytesnacks" } });
  await t.admin.createTask({
    id: taskId("echo"),
    spec: { template: taskTemplate({ type: "echo", inputs: { a: intType() }, outputs: { a: intType() } }) },
  });
  await t.admin.createTask({
    id: taskId("add"),
    spec: {
      template: taskTemplate({
        inputs: { a: intType(), b: intType() },
        outputs: { o: intType() },
        command: ["sh", "-c", "echo $(({{.inputs.a}} + {{.inputs.b}})) > {{.outputPrefix}}/o"],
      }),
    },
  });
  await t.admin.createTask({
    id: taskId("boom"),
    spec: {
      template: taskTemplate({
        inputs: { a: intType() },
        outputs: { o: intType() },
        command: ["sh", "-c", "echo something broke >&2; exit 3"],
        retries: 1,
      }),
    },
  });
  const wf = workflowTemplate({
    inputs: { x: intType(), y: intType() },
    outputs: { total: intType() },
    nodes: [
      taskNode("n0", taskId("echo"), [bind("a", "", "x")]),
      taskNode("n1", taskId("add"), [bind("a", "n0", "a"), bind("b", "", "y")]),
    ],
    outputBindings: [bind("total", "n1", "o")],
  });
  await t.admin.createWorkflow({ id: workflowId("chain"), spec: { template: wf } });
  await t.admin.createLaunchPlan({
    id: launchPlanId("chain"),
    spec: {
      workflowId: workflowId("chain"),
      defaultInputs: {
        parameters: { y: { var: { type: intType() }, behavior: { case: "default", value: literalInt(10) } } },
      },
    },
  });
});
afterAll(async () => {
  await t?.stop();
});

describe("executions", () => {
  it("runs a launch plan: echo then a container process, with outputs, nodes and task attempts recorded", async () => {
    const res = await t.admin.createExecution({
      ...P,
      name: "first-run",
      spec: { launchPlan: launchPlanId("chain") },
      inputs: { literals: { x: literalInt(5) } },
    });
    expect(res.id?.name).toBe("first-run");
    const done = await waitDone("first-run");
    expect(done.closure?.phase).toBe(WorkflowExecution_Phase.SUCCEEDED);
    expect(done.closure?.startedAt).toBeDefined();
    expect(done.spec?.maxParallelism).toBe(25);
    const data = await t.admin.getExecutionData({ id: { ...P, name: "first-run" } });
    expect(data.fullInputs?.literals.y?.value).toMatchObject({ case: "scalar" });
    expect(data.fullOutputs?.literals.total).toEqual(literalInt(15));
    const nodes = await t.admin.listNodeExecutions({
      workflowExecutionId: { ...P, name: "first-run" },
      limit: 10,
    });
    expect(nodes.nodeExecutions.map((n) => [n.id?.nodeId, n.closure?.phase])).toEqual([
      ["n0", NodeExecution_Phase.SUCCEEDED],
      ["n1", NodeExecution_Phase.SUCCEEDED],
    ]);
    const n1 = await t.admin.getNodeExecutionData({
      id: { nodeId: "n1", executionId: { ...P, name: "first-run" } },
    });
    expect(n1.fullInputs?.literals.a).toEqual(literalInt(5));
    expect(n1.fullOutputs?.literals.o).toEqual(literalInt(15));
    const attempts = await t.admin.listTaskExecutions({
      nodeExecutionId: { nodeId: "n1", executionId: { ...P, name: "first-run" } },
      limit: 10,
    });
    expect(attempts.taskExecutions.map((a) => a.closure?.phase)).toEqual([TaskExecution_Phase.SUCCEEDED]);
  });

  it("runs a single task through its .flytegen wrapper", async () => {
    const res = await t.admin.createExecution({
      ...P,
      spec: { launchPlan: taskId("add") },
      inputs: { literals: { a: literalInt(2), b: literalInt(40) } },
    });
    expect(res.id?.name).toMatch(/^[a-z][a-z0-9]{19}$/);
    const done = await waitDone(res.id?.name ?? "");
    expect(done.closure?.phase).toBe(WorkflowExecution_Phase.SUCCEEDED);
    expect(done.closure?.workflowId?.name).toBe(".flytegen.add");
    const out = await t.admin.getExecutionData({ id: res.id });
    expect(out.fullOutputs?.literals.o).toEqual(literalInt(42));
    const list = await t.admin.listExecutions({ id: P, limit: 10, filters: "eq(launch_entity,task)" });
    expect(list.executions.map((e) => e.id?.name)).toContain(res.id?.name);
  });

  it("retries a failing task and fails with the stderr tail", async () => {
    const res = await t.admin.createExecution({
      ...P,
      spec: { launchPlan: taskId("boom") },
      inputs: { literals: { a: literalInt(1) } },
    });
    const done = await waitDone(res.id?.name ?? "");
    expect(done.closure?.phase).toBe(WorkflowExecution_Phase.FAILED);
    const err = done.closure?.outputResult.case === "error" ? done.closure.outputResult.value : undefined;
    expect(err?.message).toContain("something broke");
    const attempts = await t.admin.listTaskExecutions({
      nodeExecutionId: { nodeId: "boom", executionId: res.id },
      limit: 10,
    });
    expect(attempts.taskExecutions.map((a) => a.closure?.phase)).toEqual([
      TaskExecution_Phase.RETRYABLE_FAILED,
      TaskExecution_Phase.FAILED,
    ]);
  });

  it("validates creation with Flyte's messages", async () => {
    await expectCode(
      t.admin.createExecution({ domain: "development" }),
      Code.InvalidArgument,
      "missing project",
    );
    await expectCode(
      t.admin.createExecution({ ...P, name: "Bad_Name", spec: { launchPlan: launchPlanId("chain") } }),
      Code.InvalidArgument,
      "invalid name format: bad_name, does not match regex '^[a-z][a-z\\-0-9]*$'",
    );
    await expectCode(t.admin.createExecution({ ...P }), Code.InvalidArgument, "missing spec");
    await expectCode(
      t.admin.createExecution({
        ...P,
        spec: { launchPlan: { ...workflowId("chain"), resourceType: ResourceType.WORKFLOW } },
      }),
      Code.InvalidArgument,
      "Invalid reference entity resource type [WORKFLOW], only [LAUNCH_PLAN, TASK] allowed",
    );
    await expectCode(
      t.admin.createExecution({ ...P, spec: { launchPlan: launchPlanId("nope") } }),
      Code.NotFound,
      /^missing entity of type LAUNCH_PLAN/,
    );
    await expectCode(
      t.admin.createExecution({ ...P, spec: { launchPlan: launchPlanId("chain") } }),
      Code.InvalidArgument,
      "expected_inputs x missing",
    );
    await expectCode(
      t.admin.createExecution({
        ...P,
        spec: { launchPlan: launchPlanId("chain") },
        inputs: { literals: { x: literalInt(1), zz: literalInt(1) } },
      }),
      Code.InvalidArgument,
      "invalid input zz",
    );
    await expectCode(
      t.admin.createExecution({
        ...P,
        spec: { launchPlan: launchPlanId("chain") },
        inputs: { literals: { x: literalString("no") } },
      }),
      Code.InvalidArgument,
      /^invalid x input wrong type\. Expected /,
    );
    await expectCode(
      t.admin.createExecution({
        ...P,
        name: "first-run",
        spec: { launchPlan: launchPlanId("chain") },
        inputs: { literals: { x: literalInt(1) } },
      }),
      Code.AlreadyExists,
      /^value with matching already exists/,
    );
    await expectCode(
      t.admin.getExecution({ id: { ...P, name: "ghost" } }),
      Code.NotFound,
      /^missing entity of type execution with identifier/,
    );
  });

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
    const res = await t.admin.createExecution({
      ...P,
      spec: { launchPlan: taskId("sleepy") },
      inputs: { literals: { a: literalInt(1) } },
    });
    await eventually(
      () =>
        t.admin
          .listTaskExecutions({ nodeExecutionId: { nodeId: "sleepy", executionId: res.id }, limit: 1 })
          .catch(() => undefined),
      (l) => l?.taskExecutions[0]?.closure?.phase === TaskExecution_Phase.RUNNING,
    );
    await t.admin.terminateExecution({ id: res.id, cause: "changed my mind" });
    const done = await waitDone(res.id?.name ?? "");
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

  it("relaunches with the original inputs and archives", async () => {
    const res = await t.admin.relaunchExecution({ id: { ...P, name: "first-run" }, name: "again-run" });
    const done = await waitDone(res.id?.name ?? "");
    expect(done.spec?.metadata?.mode).toBe(ExecutionMetadata_ExecutionMode.RELAUNCH);
    expect(done.spec?.metadata?.referenceExecution?.name).toBe("first-run");
    expect((await t.admin.getExecutionData({ id: res.id })).fullOutputs?.literals.total).toEqual(
      literalInt(15),
    );
    await t.admin.updateExecution({ id: res.id, state: 1 });
    const visible = await t.admin.listExecutions({ id: P, limit: 100 });
    expect(visible.executions.map((e) => e.id?.name)).not.toContain("again-run");
    const archived = await t.admin.listExecutions({ id: P, limit: 100, filters: "eq(state,1)" });
    expect(archived.executions.map((e) => e.id?.name)).toEqual(["again-run"]);
  });
});
