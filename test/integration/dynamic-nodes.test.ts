// Dynamic nodes driven by the contract alone: a task that writes futures.pb (a DynamicJobSpec) instead of
// outputs.pb. The tasks here copy prepared specs into place with `cp`, so every byte the engine reads is one this
// test wrote; test/integration/flytekit-contract.test.ts runs the same through flytekit's stand-in.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { create, toBinary } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CatalogCacheStatus } from "../../gen/flyteidl/core/catalog_pb.js";
import { DynamicJobSpecSchema } from "../../gen/flyteidl/core/dynamic_job_pb.js";
import {
  NodeExecution_Phase as N,
  WorkflowExecution_Phase as W,
} from "../../gen/flyteidl/core/execution_pb.js";
import type { Identifier } from "../../gen/flyteidl/core/identifier_pb.js";
import { type Binding, BindingSchema } from "../../gen/flyteidl/core/literals_pb.js";
import type { TaskTemplate } from "../../gen/flyteidl/core/tasks_pb.js";
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
import { expectCode } from "../support/expect-error.js";
import { startTestServer, type TestServer } from "../support/test-server.js";

let t: TestServer;
const P = { project: "flytesnacks", domain: "development" };
const specs = fs.mkdtempSync(path.join(os.tmpdir(), "petrel-dynamic-"));

/** A binding to a constant, as flytekit binds a dynamic task's sub-nodes to values it computed. */
function constant(v: string, n: number): Binding {
  const lit = literalInt(n).value;
  if (lit.case !== "scalar") throw new Error("an integer literal is a scalar");
  return create(BindingSchema, { var: v, binding: { value: { case: "scalar", value: lit.value } } });
}

/** A task whose run writes the DynamicJobSpec prepared in `<specs>/<name>.pb` as its futures.pb. */
const dynamicTask = (name: string, edit?: (t: TaskTemplate) => void): TaskTemplate =>
  taskTemplate({
    id: taskId(name),
    inputs: { a: intType() },
    outputs: { o: intType() },
    command: ["sh", "-c", `cp ${path.join(specs, `${name}.pb`)} {{.outputPrefix}}/futures.pb`],
    ...(edit === undefined ? {} : { edit }),
  });

const inc = taskTemplate({
  id: taskId("inc"),
  inputs: { a: intType() },
  outputs: { o: intType() },
  command: ["sh", "-c", "echo $(({{.inputs.a}} + 1)) > {{.outputPrefix}}/o"],
});
/** Fails until the test creates `<specs>/flag`. */
const flip = taskTemplate({
  id: taskId("flip"),
  inputs: { a: intType() },
  outputs: { o: intType() },
  command: ["sh", "-c", `test -f ${path.join(specs, "flag")} && echo {{.inputs.a}} > {{.outputPrefix}}/o`],
});
const boom = taskTemplate({
  id: taskId("boom"),
  inputs: { a: intType() },
  outputs: { o: intType() },
  command: ["sh", "-c", "echo deep failure >&2; exit 2"],
});

/** Writes the spec a dynamic task `name` produces: `nodes` over `tasks`, its output bound to `out`'s `o`. */
function writeSpec(name: string, tasks: TaskTemplate[], nodes: ReturnType<typeof taskNode>[], out: string) {
  const spec = create(DynamicJobSpecSchema, {
    nodes,
    minSuccesses: BigInt(nodes.length),
    outputs: [bind("o", out, "o")],
    tasks,
  });
  fs.writeFileSync(path.join(specs, `${name}.pb`), toBinary(DynamicJobSpecSchema, spec));
}

async function registerWorkflow(name: string, task: Identifier) {
  await t.admin.createWorkflow({
    id: workflowId(name),
    spec: {
      template: workflowTemplate({
        id: workflowId(name),
        inputs: { x: intType() },
        outputs: { o: intType() },
        nodes: [taskNode("n0", task, [bind("a", "", "x")])],
        outputBindings: [bind("o", "n0", "o")],
      }),
    },
  });
  await t.admin.createLaunchPlan({ id: launchPlanId(name), spec: { workflowId: workflowId(name) } });
}

beforeAll(async () => {
  t = await startTestServer();
  await t.admin.registerProject({ project: { id: "flytesnacks", name: "flytesnacks" } });
  const level3 = dynamicTask("level3");
  const level2 = dynamicTask("level2");
  const level1 = dynamicTask("level1");
  const broken = dynamicTask("broken");
  const cached = dynamicTask("cached", (x) => {
    if (x.metadata === undefined) return;
    x.metadata.discoverable = true;
    x.metadata.discoveryVersion = "1";
  });
  const flaky = dynamicTask("flaky");
  for (const task of [inc, flip, boom, level1, broken, cached, flaky])
    await t.admin.createTask({ id: task.id, spec: { template: task } });
  // level1 → level2 → level3 → inc(30), inc(dn0): three levels of dynamic nodes, 32 at the bottom.
  writeSpec(
    "level3",
    [inc],
    [
      taskNode("dn0", taskId("inc"), [constant("a", 30)]),
      taskNode("dn1", taskId("inc"), [bind("a", "dn0", "o")]),
    ],
    "dn1",
  );
  writeSpec("level2", [level3], [taskNode("dn0", taskId("level3"), [constant("a", 20)])], "dn0");
  writeSpec("level1", [level2], [taskNode("dn0", taskId("level2"), [constant("a", 10)])], "dn0");
  writeSpec("broken", [boom], [taskNode("dn0", taskId("boom"), [constant("a", 1)])], "dn0");
  writeSpec("cached", [inc], [taskNode("dn0", taskId("inc"), [constant("a", 41)])], "dn0");
  writeSpec(
    "flaky",
    [inc, flip],
    [
      taskNode("dn0", taskId("inc"), [constant("a", 1)]),
      taskNode("dn1", taskId("flip"), [bind("a", "dn0", "o")]),
    ],
    "dn1",
  );
  await registerWorkflow("flaky", taskId("flaky"));
  await registerWorkflow("nested", taskId("level1"));
  await registerWorkflow("broken", taskId("broken"));
  await registerWorkflow("cached", taskId("cached"));
});
afterAll(async () => {
  await t?.stop();
  fs.rmSync(specs, { recursive: true, force: true });
});

const run = async (lp: string, name: string) => {
  const id = { ...P, name };
  await t.admin.createExecution({
    ...id,
    spec: { launchPlan: launchPlanId(lp) },
    inputs: { literals: { x: literalInt(1) } },
  });
  return eventually(
    () => t.admin.getExecution({ id }),
    (e) => [W.SUCCEEDED, W.FAILED].includes(e.closure?.phase ?? 0),
    30_000,
  );
};

describe("dynamic nodes", () => {
  it("run the workflow a task wrote, three levels deep, and report it as FlyteAdmin does", async () => {
    const e = await run("nested", "nested");
    expect(e.closure?.phase, JSON.stringify(e.closure?.outputResult.value)).toBe(W.SUCCEEDED);
    expect((await t.admin.getExecutionData({ id: e.id })).fullOutputs?.literals.o).toEqual(literalInt(32));
    const list = async (parent: string) =>
      (
        await t.admin.listNodeExecutions({ workflowExecutionId: e.id, limit: 20, uniqueParentId: parent })
      ).nodeExecutions.map((n) => [
        n.id?.nodeId,
        n.metadata?.specNodeId,
        n.metadata?.isDynamic,
        n.closure?.phase,
      ]);
    expect(await list("")).toEqual([["n0", "n0", true, N.SUCCEEDED]]);
    expect(await list("n0")).toEqual([["n0-0-dn0", "dn0", true, N.SUCCEEDED]]);
    expect(await list("n0-0-dn0")).toEqual([["n0-0-dn0-0-dn0", "dn0", true, N.SUCCEEDED]]);
    expect(await list("n0-0-dn0-0-dn0")).toEqual([
      ["n0-0-dn0-0-dn0-0-dn0", "dn0", false, N.SUCCEEDED],
      ["n0-0-dn0-0-dn0-0-dn1", "dn1", false, N.SUCCEEDED],
    ]);

    const n0 = { executionId: e.id, nodeId: "n0" };
    const node = await t.admin.getNodeExecution({ id: n0 });
    expect(node.closure?.dynamicJobSpecUri).toMatch(/futures\.pb$/);
    const wf = await t.admin.getDynamicNodeWorkflow({ id: n0 });
    expect(wf.compiledWorkflow?.primary?.template?.nodes.map((n) => n.id).sort()).toEqual(
      ["dn0", "end-node", "start-node"].sort(),
    );
    expect(wf.compiledWorkflow?.tasks.map((x) => x.template?.id?.name)).toEqual(["level2"]);
    const data = await t.admin.getNodeExecutionData({ id: n0 });
    expect(data.dynamicWorkflow?.id?.name).toBe(wf.compiledWorkflow?.primary?.template?.id?.name);
    expect(data.dynamicWorkflow?.compiledWorkflow).toEqual(wf.compiledWorkflow);
    expect(data.dynamicWorkflow?.dynamicJobSpecUri).toBe(node.closure?.dynamicJobSpecUri);
    expect(data.fullOutputs?.literals.o).toEqual(literalInt(32));

    // The children of the task attempt that produced them.
    const attempts = await t.admin.listTaskExecutions({ nodeExecutionId: n0, limit: 5 });
    expect(attempts.taskExecutions).toHaveLength(1);
    const children = await t.admin.listNodeExecutionsForTask({
      taskExecutionId: attempts.taskExecutions[0]?.id,
      limit: 5,
    });
    expect(children.nodeExecutions.map((n) => n.id?.nodeId)).toEqual(["n0-0-dn0"]);
    expect(children.nodeExecutions[0]?.metadata?.isParentNode).toBe(true);

    await expectCode(
      t.admin.getDynamicNodeWorkflow({ id: { executionId: e.id, nodeId: "n0-0-dn0-0-dn0-0-dn1" } }),
      Code.NotFound,
      /node does not contain dynamic workflow/,
    );
  });

  it("fail with the failure of a node inside", async () => {
    const e = await run("broken", "broken");
    expect(e.closure?.phase).toBe(W.FAILED);
    const error = e.closure?.outputResult.case === "error" ? e.closure.outputResult.value : undefined;
    expect(error?.message).toContain("deep failure");
    const n0 = await t.admin.getNodeExecution({ id: { executionId: e.id, nodeId: "n0" } });
    expect(n0.closure?.phase).toBe(N.FAILED);
  });

  it("are cached as a whole: a second run reuses the outputs without running the task", async () => {
    const first = await run("cached", "cached-1");
    expect(first.closure?.phase).toBe(W.SUCCEEDED);
    const second = await run("cached", "cached-2");
    expect(second.closure?.phase).toBe(W.SUCCEEDED);
    expect((await t.admin.getExecutionData({ id: second.id })).fullOutputs?.literals.o).toEqual(
      literalInt(42),
    );
    const n0 = await t.admin.getNodeExecution({ id: { executionId: second.id, nodeId: "n0" } });
    const meta = n0.closure?.targetMetadata;
    expect(meta?.case === "taskNodeMetadata" ? meta.value.cacheStatus : undefined).toBe(
      CatalogCacheStatus.CACHE_HIT,
    );
    const children = await t.admin.listNodeExecutions({
      workflowExecutionId: second.id,
      uniqueParentId: "n0",
      limit: 5,
    });
    expect(children.nodeExecutions).toEqual([]);
  });

  it("recover: the children that succeeded are recovered, the rest run again", async () => {
    const first = await run("flaky", "flaky-1");
    expect(first.closure?.phase).toBe(W.FAILED);
    fs.writeFileSync(path.join(specs, "flag"), "");
    const res = await t.admin.recoverExecution({ id: first.id, name: "flaky-2" });
    const second = await eventually(
      () => t.admin.getExecution({ id: res.id }),
      (e) => [W.SUCCEEDED, W.FAILED].includes(e.closure?.phase ?? 0),
      30_000,
    );
    expect(second.closure?.phase).toBe(W.SUCCEEDED);
    expect((await t.admin.getExecutionData({ id: second.id })).fullOutputs?.literals.o).toEqual(
      literalInt(2),
    );
    const children = await t.admin.listNodeExecutions({
      workflowExecutionId: second.id,
      uniqueParentId: "n0",
      limit: 5,
    });
    expect(children.nodeExecutions.map((n) => [n.metadata?.specNodeId, n.closure?.phase])).toEqual([
      ["dn0", N.RECOVERED],
      ["dn1", N.SUCCEEDED],
    ]);
  });
});
