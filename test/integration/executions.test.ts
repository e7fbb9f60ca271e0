// Executions of the `chain` launch plan (echo, then a container process) and of single tasks: running them, the
// checks on creation, relaunching and archiving, their data, logs and metrics, and the failure node.
import fs from "node:fs";
import { fileURLToPath } from "node:url";
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
  addTask,
  bind,
  executionRequest,
  intDefault,
  intType,
  launchPlanId,
  literalInt,
  literalString,
  registerEchoProject,
  registerWorkflow,
  taskId,
  taskNode,
  taskTemplate,
  waitDone,
  workflowId,
  workflowTemplate,
} from "../fixtures/flyte-builders.js";
import { eventually } from "../support/eventually.js";
import { expectCode } from "../support/expect-error.js";
import { itInProcess } from "../support/external-server.js";
import { startTestServer, type TestServer } from "../support/test-server.js";

let t: TestServer;
const P = { project: "flytesnacks", domain: "development" };

beforeAll(async () => {
  t = await startTestServer();
  await registerEchoProject(t.admin);
  await t.admin.createTask({ id: taskId("add"), spec: { template: addTask() } });
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
  await registerWorkflow(t.admin, workflowId("chain"), wf, {
    defaultInputs: { parameters: { y: intDefault(10) } },
  });
});
afterAll(async () => {
  await t?.stop();
});

describe("executions", () => {
  it("runs a launch plan: echo then a container process, with outputs, nodes and task attempts recorded", async () => {
    const res = await t.admin.createExecution(
      executionRequest(launchPlanId("chain"), { x: literalInt(5) }, "first-run"),
    );
    expect(res.id?.name).toBe("first-run");
    const done = await waitDone(t.admin, "first-run");
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
    const res = await t.admin.createExecution(
      executionRequest(taskId("add"), { a: literalInt(2), b: literalInt(40) }),
    );
    expect(res.id?.name).toMatch(/^[a-z][a-z0-9]{19}$/);
    const done = await waitDone(t.admin, res.id?.name ?? "");
    expect(done.closure?.phase).toBe(WorkflowExecution_Phase.SUCCEEDED);
    expect(done.closure?.workflowId?.name).toBe(".flytegen.add");
    const out = await t.admin.getExecutionData({ id: res.id });
    expect(out.fullOutputs?.literals.o).toEqual(literalInt(42));
    const list = await t.admin.listExecutions({ id: P, limit: 10, filters: "eq(launch_entity,task)" });
    expect(list.executions.map((e) => e.id?.name)).toContain(res.id?.name);
  });

  it("retries a failing task and fails with the stderr tail", async () => {
    const res = await t.admin.createExecution(executionRequest(taskId("boom"), { a: literalInt(1) }));
    const done = await waitDone(t.admin, res.id?.name ?? "");
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
      t.admin.createExecution(
        executionRequest(launchPlanId("chain"), { x: literalInt(1), zz: literalInt(1) }),
      ),
      Code.InvalidArgument,
      "invalid input zz",
    );
    await expectCode(
      t.admin.createExecution(executionRequest(launchPlanId("chain"), { x: literalString("no") })),
      Code.InvalidArgument,
      /^invalid x input wrong type\. Expected /,
    );
    await expectCode(
      t.admin.createExecution(executionRequest(launchPlanId("chain"), { x: literalInt(1) }, "first-run")),
      Code.AlreadyExists,
      /^value with matching already exists/,
    );
    await expectCode(
      t.admin.getExecution({ id: { ...P, name: "ghost" } }),
      Code.NotFound,
      /^missing entity of type execution with identifier/,
    );
  });

  it("relaunches with the original inputs and archives", async () => {
    const res = await t.admin.relaunchExecution({ id: { ...P, name: "first-run" }, name: "again-run" });
    const done = await waitDone(t.admin, res.id?.name ?? "");
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

  // The rows and the store's files are read directly: an in-process server's.
  itInProcess(
    "keeps the user's inputs in a blob of their own only where defaults were added to them",
    async () => {
      await t.admin.createExecution(
        executionRequest(launchPlanId("chain"), { x: literalInt(2), y: literalInt(3) }, "all-given"),
      );
      await waitDone(t.admin, "all-given");
      const rows = (await t.server
        .db("executions")
        .whereIn("execution_name", ["first-run", "all-given"])
        .select("execution_name", "inputs_uri", "user_inputs_uri")) as {
        execution_name: string;
        inputs_uri: string;
        user_inputs_uri: string;
      }[];
      const byName = Object.fromEntries(rows.map((r) => [r.execution_name, r]));
      // y was defaulted for first-run: the user's inputs ({x}) differ from the inputs ({x, y}).
      expect(byName["first-run"]?.user_inputs_uri).toMatch(/\/first-run\/user_inputs$/);
      expect(byName["all-given"]?.user_inputs_uri).toBe(byName["all-given"]?.inputs_uri);
      for (const r of rows)
        await eventually(
          async () => fs.existsSync(fileURLToPath(r.user_inputs_uri)),
          (found) => found,
        );
      expect(
        fs.existsSync(fileURLToPath(byName["all-given"]?.inputs_uri.replace(/inputs$/, "user_inputs") ?? "")),
      ).toBe(false);
      const again = await t.admin.relaunchExecution({
        id: { ...P, name: "all-given" },
        name: "all-given-again",
      });
      await waitDone(t.admin, again.id?.name ?? "");
      const data = await t.admin.getExecutionData({ id: again.id });
      expect(data.fullOutputs?.literals.total).toEqual(literalInt(5));
    },
  );

  it("serves data by flyte:// URL, task logs over HTTP, and a metrics span tree", async () => {
    const id = { ...P, name: "first-run" };
    const whole = await t.dataProxy.getData({
      flyteUrl: "flyte://v1/flytesnacks/development/first-run/n1/o",
    });
    expect(whole.data.case === "literalMap" && whole.data.value.literals.o).toEqual(literalInt(15));
    const one = await t.dataProxy.getData({
      flyteUrl: "flyte://v1/flytesnacks/development/first-run/n1/0/i/a",
    });
    expect(one.data).toEqual({ case: "literal", value: literalInt(5) });
    await expectCode(
      t.dataProxy.getData({ flyteUrl: "s3://bucket/x" }),
      Code.InvalidArgument,
      /^unsupported URL/,
    );
    const attempt = (
      await t.admin.listTaskExecutions({ nodeExecutionId: { nodeId: "n1", executionId: id }, limit: 1 })
    ).taskExecutions[0];
    const stdout = attempt?.closure?.logs.find((l) => l.name === "stdout");
    expect(stdout?.uri).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/api\/v1\/logs\//);
    const res = await fetch(stdout?.uri ?? "");
    expect(res.status).toBe(200);
    const boom = (await t.admin.listExecutions({ id: P, limit: 50, filters: "eq(phase,FAILED)" }))
      .executions[0];
    const failed = (
      await t.admin.listTaskExecutions({
        nodeExecutionId: { nodeId: "boom", executionId: boom?.id },
        limit: 1,
      })
    ).taskExecutions[0];
    const stderr = failed?.closure?.logs.find((l) => l.name === "stderr");
    expect(await (await fetch(stderr?.uri ?? "")).text()).toContain("something broke");
    const metrics = await t.admin.getExecutionMetrics({ id, depth: 10 });
    expect(metrics.span?.id.case).toBe("workflowId");
    expect(metrics.span?.spans.map((s) => (s.id.case === "nodeId" ? s.id.value.nodeId : ""))).toEqual([
      "n0",
      "n1",
    ]);
    expect(metrics.span?.spans[1]?.spans.some((s) => s.id.case === "taskId")).toBe(true);
  });

  it("runs the failure node when the workflow fails, and honours FAIL_AFTER_EXECUTABLE_NODES_COMPLETE", async () => {
    const template = workflowTemplate({
      inputs: { x: intType() },
      nodes: [
        taskNode("bad", taskId("boom"), [bind("a", "", "x")]),
        taskNode("other", taskId("echo"), [bind("a", "", "x")]),
      ],
    });
    if (template.metadata !== undefined) template.metadata.onFailure = 1;
    template.failureNode = taskNode("cleanup", taskId("echo"), [bind("a", "", "x")]);
    await registerWorkflow(t.admin, workflowId("with-cleanup"), template);
    await t.admin.createExecution(
      executionRequest(launchPlanId("with-cleanup"), { x: literalInt(1) }, "cleaned-up"),
    );
    const done = await waitDone(t.admin, "cleaned-up");
    expect(done.closure?.phase).toBe(WorkflowExecution_Phase.FAILED);
    const nodes = await t.admin.listNodeExecutions({ workflowExecutionId: done.id, limit: 10 });
    expect(Object.fromEntries(nodes.nodeExecutions.map((n) => [n.id?.nodeId, n.closure?.phase]))).toEqual({
      bad: NodeExecution_Phase.FAILED,
      other: NodeExecution_Phase.SUCCEEDED,
      cleanup: NodeExecution_Phase.SUCCEEDED,
    });
  });
});
