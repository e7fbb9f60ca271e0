import { create } from "@bufbuild/protobuf";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ExecutionMetadata_ExecutionMode } from "../../gen/flyteidl/admin/execution_pb.js";
import { WorkflowExecution_Phase as W } from "../../gen/flyteidl/core/execution_pb.js";
import { NodeSchema } from "../../gen/flyteidl/core/workflow_pb.js";
import {
  bind,
  intType,
  launchPlanId,
  literalInt,
  taskId,
  taskNode,
  taskTemplate,
  workflowId,
  workflowTemplate,
} from "../fixtures/flyte-builders.js";
import { eventually } from "../support/eventually.js";
import { startTestServer, type TestServer } from "../support/test-server.js";

let t: TestServer;
const P = { project: "flytesnacks", domain: "development" };
const TERMINAL = [W.SUCCEEDED, W.FAILED, W.ABORTED];

async function lp(name: string, task: string) {
  const wf = workflowTemplate({
    inputs: { a: intType() },
    outputs: { o: intType() },
    nodes: [taskNode("n0", taskId(task), [bind("a", "", "a")])],
    outputBindings: [bind("o", "n0", "o")],
  });
  await t.admin.createWorkflow({ id: workflowId(name), spec: { template: wf } });
  await t.admin.createLaunchPlan({ id: launchPlanId(name), spec: { workflowId: workflowId(name) } });
}

async function parent(name: string, child: string) {
  const node = create(NodeSchema, {
    id: "child",
    inputs: [bind("a", "", "x")],
    target: {
      case: "workflowNode",
      value: { reference: { case: "launchplanRef", value: launchPlanId(child) } },
    },
  });
  const wf = workflowTemplate({
    inputs: { x: intType() },
    outputs: { o: intType() },
    nodes: [node],
    outputBindings: [bind("o", "child", "o")],
  });
  await t.admin.createWorkflow({ id: workflowId(name), spec: { template: wf } });
  await t.admin.createLaunchPlan({ id: launchPlanId(name), spec: { workflowId: workflowId(name) } });
}

const wait = async (id: { project: string; domain: string; name: string }, phases = TERMINAL) => {
  const e = await eventually(
    () => t.admin.getExecution({ id }).catch(() => undefined),
    (x) => x !== undefined && phases.includes(x.closure?.phase ?? 0),
  );
  if (e === undefined) throw new Error("unreachable");
  return e;
};

beforeAll(async () => {
  t = await startTestServer();
  await t.admin.registerProject({ project: { id: "flytesnacks", name: "flytesnacks" } });
  const task = (name: string, script: string) =>
    t.admin.createTask({
      id: taskId(name),
      spec: {
        template: taskTemplate({
          inputs: { a: intType() },
          outputs: { o: intType() },
          command: ["sh", "-c", script],
        }),
      },
    });
  await task("inc", "echo $(({{.inputs.a}} + 1)) > {{.outputPrefix}}/o");
  await task("fail", "echo child broke >&2; exit 1");
  await task("hang", "sleep 30");
  await lp("child-ok", "inc");
  await lp("child-bad", "fail");
  await lp("child-slow", "hang");
  await parent("parent-ok", "child-ok");
  await parent("parent-bad", "child-bad");
  await parent("parent-slow", "child-slow");
});
afterAll(async () => {
  await t?.stop();
});

describe("launch-plan nodes", () => {
  it("run a child execution linked to the node, with the child's outputs", async () => {
    await t.admin.createExecution({
      ...P,
      name: "parent1",
      spec: { launchPlan: launchPlanId("parent-ok") },
      inputs: { literals: { x: literalInt(1) } },
    });
    const e = await wait({ ...P, name: "parent1" });
    expect(e.closure?.phase).toBe(W.SUCCEEDED);
    expect((await t.admin.getExecutionData({ id: e.id })).fullOutputs?.literals.o).toEqual(literalInt(2));
    const node = await t.admin.getNodeExecution({ id: { nodeId: "child", executionId: e.id } });
    const childId =
      node.closure?.targetMetadata.case === "workflowNodeMetadata"
        ? node.closure.targetMetadata.value.executionId
        : undefined;
    expect(childId?.name).toBe("parent1-child-0");
    const child = await t.admin.getExecution({ id: childId });
    expect(child.spec?.metadata).toMatchObject({
      mode: ExecutionMetadata_ExecutionMode.CHILD_WORKFLOW,
      nesting: 1,
      parentNodeExecution: { nodeId: "child" },
    });
  });

  it("a failing child fails the parent", async () => {
    await t.admin.createExecution({
      ...P,
      name: "parent2",
      spec: { launchPlan: launchPlanId("parent-bad") },
      inputs: { literals: { x: literalInt(1) } },
    });
    const e = await wait({ ...P, name: "parent2" });
    expect(e.closure?.phase).toBe(W.FAILED);
    expect(e.closure?.outputResult.case === "error" && e.closure.outputResult.value.message).toContain(
      "child broke",
    );
  });

  it("terminating the parent terminates the child", async () => {
    await t.admin.createExecution({
      ...P,
      name: "parent3",
      spec: { launchPlan: launchPlanId("parent-slow") },
      inputs: { literals: { x: literalInt(1) } },
    });
    await wait({ ...P, name: "parent3-child-0" }, [W.RUNNING]);
    await t.admin.terminateExecution({ id: { ...P, name: "parent3" }, cause: "enough" });
    expect((await wait({ ...P, name: "parent3" })).closure?.phase).toBe(W.ABORTED);
    expect((await wait({ ...P, name: "parent3-child-0" })).closure?.phase).toBe(W.ABORTED);
  });
});
