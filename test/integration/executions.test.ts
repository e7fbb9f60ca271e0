import { create } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ExecutionMetadata_ExecutionMode } from "../../gen/flyteidl/admin/execution_pb.js";
import { Project_ProjectState } from "../../gen/flyteidl/admin/project_pb.js";
import {
  NodeExecution_Phase,
  TaskExecution_Phase,
  WorkflowExecution_Phase,
} from "../../gen/flyteidl/core/execution_pb.js";
import { ResourceType } from "../../gen/flyteidl/core/identifier_pb.js";
import { NodeMetadataSchema } from "../../gen/flyteidl/core/workflow_pb.js";
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
import { itInProcess } from "../support/external-server.js";
import { startTestServer, type TestServer } from "../support/test-server.js";

let t: TestServer;
const P = { project: "flytesnacks", domain: "development" };
const TERMINAL = [
  WorkflowExecution_Phase.SUCCEEDED,
  WorkflowExecution_Phase.FAILED,
  WorkflowExecution_Phase.ABORTED,
];

async function waitDone(name: string, scope: { project: string; domain: string } = P) {
  return eventually(
    () => t.admin.getExecution({ id: { ...scope, name } }),
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

  it("checks the project first, and again in the INSERT: nothing is written into an archived project", async () => {
    const S = { project: "shelved", domain: "development" };
    await t.admin.registerProject({ project: { id: "shelved", name: "shelved" } });
    await t.admin.createTask({
      id: taskId("echo", "v1", "shelved"),
      spec: { template: taskTemplate({ type: "echo", inputs: { a: intType() }, outputs: { a: intType() } }) },
    });
    const template = workflowTemplate({
      inputs: { x: intType() },
      outputs: { o: intType() },
      nodes: [taskNode("n0", taskId("echo", "v1", "shelved"), [bind("a", "", "x")])],
      outputBindings: [bind("o", "n0", "a")],
    });
    await t.admin.createWorkflow({ id: workflowId("one", "v1", "shelved"), spec: { template } });
    await t.admin.createLaunchPlan({
      id: launchPlanId("one", "v1", "shelved"),
      spec: { workflowId: workflowId("one", "v1", "shelved") },
    });
    const launch = (name: string) =>
      t.admin.createExecution({
        ...S,
        name,
        spec: { launchPlan: launchPlanId("one", "v1", "shelved") },
        inputs: { literals: { x: literalInt(1) } },
      });
    await t.admin.updateProject({ id: "shelved", name: "shelved", state: Project_ProjectState.ARCHIVED });
    const inactive = await expectCode(
      launch("late"),
      Code.InvalidArgument,
      "project [shelved] is not active",
    );
    expect(inactive.details).toHaveLength(1);
    await expectCode(
      t.admin.createExecution({ ...S }),
      Code.InvalidArgument,
      "project [shelved] is not active",
    );
    await expectCode(
      t.admin.createExecution({ project: "ghost", domain: "development" }),
      Code.InvalidArgument,
      "failed to validate that project [ghost] and domain [development] are registered, err: [project [ghost] not found]",
    );
    await expectCode(
      t.admin.createExecution({ ...P, domain: "qa" }),
      Code.InvalidArgument,
      "domain [qa] is unrecognized by system",
    );
    await expectCode(t.admin.getExecution({ id: { ...S, name: "late" } }), Code.NotFound, /^missing entity/);
    await t.admin.updateProject({ id: "shelved", name: "shelved", state: Project_ProjectState.ACTIVE });
    await launch("late");
    expect((await waitDone("late", S)).closure?.phase).toBe(WorkflowExecution_Phase.SUCCEEDED);
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

  // The flaky task reads a file on the server's machine.
  itInProcess(
    "recovers: nodes that succeeded are not re-run but reported RECOVERED with their outputs",
    async () => {
      await t.admin.createTask({
        id: taskId("flaky"),
        spec: {
          template: taskTemplate({
            inputs: { a: intType() },
            outputs: { o: intType() },
            command: ["sh", "-c", "test -f /tmp/petrel-recover-ok || exit 1; echo 7 > {{.outputPrefix}}/o"],
          }),
        },
      });
      const wf = workflowTemplate({
        inputs: { x: intType() },
        outputs: { o: intType() },
        nodes: [
          taskNode("first", taskId("echo"), [bind("a", "", "x")]),
          taskNode("second", taskId("flaky"), [bind("a", "first", "a")]),
        ],
        outputBindings: [bind("o", "second", "o")],
      });
      await t.admin.createWorkflow({ id: workflowId("recoverable"), spec: { template: wf } });
      await t.admin.createLaunchPlan({
        id: launchPlanId("recoverable"),
        spec: { workflowId: workflowId("recoverable") },
      });
      const { rmSync, writeFileSync } = await import("node:fs");
      rmSync("/tmp/petrel-recover-ok", { force: true });
      await t.admin.createExecution({
        ...P,
        name: "to-recover",
        spec: { launchPlan: launchPlanId("recoverable") },
        inputs: { literals: { x: literalInt(1) } },
      });
      expect((await waitDone("to-recover")).closure?.phase).toBe(WorkflowExecution_Phase.FAILED);
      writeFileSync("/tmp/petrel-recover-ok", "");
      const res = await t.admin.recoverExecution({ id: { ...P, name: "to-recover" }, name: "recovered" });
      const done = await waitDone("recovered");
      rmSync("/tmp/petrel-recover-ok", { force: true });
      expect(done.closure?.phase).toBe(WorkflowExecution_Phase.SUCCEEDED);
      expect(done.spec?.metadata?.mode).toBe(ExecutionMetadata_ExecutionMode.RECOVERED);
      const nodes = await t.admin.listNodeExecutions({ workflowExecutionId: res.id, limit: 10 });
      expect(nodes.nodeExecutions.map((n) => [n.id?.nodeId, n.closure?.phase])).toEqual([
        ["first", NodeExecution_Phase.RECOVERED],
        ["second", NodeExecution_Phase.SUCCEEDED],
      ]);
      const firstAttempts = await t.admin.listTaskExecutions({
        nodeExecutionId: { nodeId: "first", executionId: res.id },
        limit: 10,
      });
      expect(firstAttempts.taskExecutions).toEqual([]);
    },
  );

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
    const res = await t.admin.createExecution({
      ...P,
      spec: { launchPlan: taskId("raw") },
      inputs: { literals: { n: literalInt(21), who: literalString("flyte") } },
    });
    const done = await waitDone(res.id?.name ?? "");
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
    const res = await t.admin.createExecution({
      ...P,
      spec: { launchPlan: taskId("liar") },
      inputs: { literals: { a: literalInt(1) } },
    });
    const done = await waitDone(res.id?.name ?? "");
    const err = done.closure?.outputResult.case === "error" ? done.closure.outputResult.value : undefined;
    // Retryable (as propeller treats unreadable outputs): the budget of one attempt is spent.
    expect(err?.code).toBe("RetriesExhausted|OutputTypeMismatch");
    expect(err?.message).toContain("output [o]: expected an integer");
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
    await t.admin.createWorkflow({ id: workflowId("with-cleanup"), spec: { template } });
    await t.admin.createLaunchPlan({
      id: launchPlanId("with-cleanup"),
      spec: { workflowId: workflowId("with-cleanup") },
    });
    await t.admin.createExecution({
      ...P,
      name: "cleaned-up",
      spec: { launchPlan: launchPlanId("with-cleanup") },
      inputs: { literals: { x: literalInt(1) } },
    });
    const done = await waitDone("cleaned-up");
    expect(done.closure?.phase).toBe(WorkflowExecution_Phase.FAILED);
    const nodes = await t.admin.listNodeExecutions({ workflowExecutionId: done.id, limit: 10 });
    expect(Object.fromEntries(nodes.nodeExecutions.map((n) => [n.id?.nodeId, n.closure?.phase]))).toEqual({
      bad: NodeExecution_Phase.FAILED,
      other: NodeExecution_Phase.SUCCEEDED,
      cleanup: NodeExecution_Phase.SUCCEEDED,
    });
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
    const res = await t.admin.createExecution({
      ...P,
      spec: { launchPlan: taskId("stuck") },
      inputs: { literals: { a: literalInt(1) } },
    });
    const done = await waitDone(res.id?.name ?? "");
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
    await t.admin.createWorkflow({
      id: workflowId("node-timeout"),
      spec: { template: workflowTemplate({ inputs: { x: intType() }, nodes: [node] }) },
    });
    await t.admin.createLaunchPlan({
      id: launchPlanId("node-timeout"),
      spec: { workflowId: workflowId("node-timeout") },
    });
    await t.admin.createExecution({
      ...P,
      name: "node-timeout",
      spec: { launchPlan: launchPlanId("node-timeout") },
      inputs: { literals: { x: literalInt(1) } },
    });
    const e = await waitDone("node-timeout");
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
