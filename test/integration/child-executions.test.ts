import { create } from "@bufbuild/protobuf";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ExecutionMetadata_ExecutionMode } from "../../gen/flyteidl/admin/execution_pb.js";
import {
  ExecutionError_ErrorKind,
  WorkflowExecution_Phase as W,
} from "../../gen/flyteidl/core/execution_pb.js";
import { NodeSchema } from "../../gen/flyteidl/core/workflow_pb.js";
import { MAX_CHILD_NESTING, wakeParent } from "../../server/engine/child-executions.js";
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
  await t.admin.createTask({
    id: taskId("echo"),
    spec: { template: taskTemplate({ type: "echo", inputs: { a: intType() }, outputs: { a: intType() } }) },
  });
  const wf = workflowTemplate({
    inputs: { a: intType() },
    outputs: { o: intType() },
    nodes: [taskNode("n0", taskId("echo"), [bind("a", "", "a")])],
    outputBindings: [bind("o", "n0", "a")],
  });
  await t.admin.createWorkflow({ id: workflowId("child-echo"), spec: { template: wf } });
  await t.admin.createLaunchPlan({
    id: launchPlanId("child-echo"),
    spec: { workflowId: workflowId("child-echo") },
  });
  await parent("parent-echo", "child-echo");
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

  it("a child that finishes before its parent's node row is visible still wakes the parent", async () => {
    // The parent's transaction that starts a child commits after the child's INSERT: a quick child may finish
    // first, while the parent's node row (its parent_node_execution_id) is not visible to it yet.
    const parent = await t.server.db("executions").where({ execution_name: "parent1" }).first();
    const child = await t.server.db("executions").where({ execution_name: "parent1-child-0" }).first();
    await t.server.db("work_items").where({ execution_id: parent.id }).delete();
    const unseen = { ...child, parent_node_execution_id: "999999999" };
    // Read inside the waking transaction: once it commits, the running engine may take the item at once.
    const queued = await t.server.db.transaction(async (trx) => {
      await wakeParent(trx, unseen);
      return trx("work_items").where({ execution_id: parent.id, kind: "evaluate" });
    });
    expect(queued).toHaveLength(1);
  });

  it("parents created together, whose children finish at once, all finish", async () => {
    // Concurrent creations are written and first evaluated in one transaction: their children start when it ends,
    // else a child could finish (and look for its parent to wake) before its parent's row is committed.
    const names = Array.from({ length: 24 }, (_, i) => `together-${i}`);
    await Promise.all(
      names.map((name) =>
        t.admin.createExecution({
          ...P,
          name,
          spec: { launchPlan: launchPlanId("parent-echo") },
          inputs: { literals: { x: literalInt(1) } },
        }),
      ),
    );
    for (const name of names) {
      const e = await wait({ ...P, name });
      expect(e.closure?.phase).toBe(W.SUCCEEDED);
    }
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

  it("a launch plan that launches itself stops at the nesting limit with a user error", async () => {
    // Registration cannot build this loop (what a workflow refers to must exist first), so the launch plan is
    // rewired in the database, as a row edited by hand would be: `rec` now runs `rec-loop`, which launches `rec`.
    await lp("rec", "inc");
    const loop = workflowTemplate({
      inputs: { a: intType() },
      outputs: { o: intType() },
      nodes: [
        create(NodeSchema, {
          id: "again",
          inputs: [bind("a", "", "a")],
          target: {
            case: "workflowNode",
            value: { reference: { case: "launchplanRef", value: launchPlanId("rec") } },
          },
        }),
      ],
      outputBindings: [bind("o", "again", "o")],
    });
    await t.admin.createWorkflow({ id: workflowId("rec-loop"), spec: { template: loop } });
    const loopRow = await t.server.db("workflows").where({ name: "rec-loop" }).first("id");
    await t.server.db("launch_plans").where({ name: "rec" }).update({ workflow_id: loopRow.id });

    await t.admin.createExecution({
      ...P,
      name: "rec0",
      spec: { launchPlan: launchPlanId("rec") },
      inputs: { literals: { a: literalInt(1) } },
    });
    const root = await wait({ ...P, name: "rec0" });
    expect(root.closure?.phase).toBe(W.FAILED);
    const error = root.closure?.outputResult.case === "error" ? root.closure.outputResult.value : undefined;
    expect(error?.kind).toBe(ExecutionError_ErrorKind.USER);
    // Each level up adds Flyte's "failed at Node[again]. " in front of the deepest node's error.
    expect(error?.message).toBe(
      `${"failed at Node[again]. ".repeat(MAX_CHILD_NESTING + 1)}child executions may nest at most ${MAX_CHILD_NESTING} levels deep: launch plan node [again] would start level ${MAX_CHILD_NESTING + 1} (does launch plan [rec] launch itself, directly or through its children?)`,
    );
    // The root and one child per level, every one of them finished.
    const all = (await t.admin.listExecutions({ id: P, limit: 100, filters: "eq(launch_plan.name,rec)" }))
      .executions;
    expect(all).toHaveLength(MAX_CHILD_NESTING + 1);
    expect(all.map((e) => e.spec?.metadata?.nesting ?? 0).sort((a, b) => a - b)).toEqual(
      Array.from({ length: MAX_CHILD_NESTING + 1 }, (_, i) => i),
    );
    expect(all.every((e) => e.closure?.phase === W.FAILED)).toBe(true);
  }, 60_000);
});
