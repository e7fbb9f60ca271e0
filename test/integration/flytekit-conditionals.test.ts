// Workflows with `conditional(...)` serialized exactly as flytekit does it: case nodes numbered n0, n1, … afresh
// inside the branch (colliding with top-level ids), branch inputs named "<node>.<var>" and ".<var>".
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  NodeExecution_Phase as N,
  WorkflowExecution_Phase as W,
} from "../../gen/flyteidl/core/execution_pb.js";
import type { Node } from "../../gen/flyteidl/core/workflow_pb.js";
import { branchNode, compareInt, Op } from "../fixtures/branch-builders.js";
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

/** Container tasks computing o0 from their input with shell arithmetic. */
const TASKS: Record<string, [input: string, expression: string]> = {
  inc: ["a", "$(({{.inputs.a}} + 1))"],
  double: ["n", "$(({{.inputs.n}} * 2))"],
  square: ["n", "$(({{.inputs.n}} * {{.inputs.n}}))"],
  minus: ["n", "$(({{.inputs.n}} - 100))"],
};

/** A case node as flytekit writes it: bound to top-level n0's output, listing n0 upstream. */
const caseNode = (id: string, task: string) => taskNode(id, taskId(task), [bind("n", "n0", "o0")], ["n0"]);

/** x → n0 = inc(x) → n1 = branch(cases) → n2 = inc(n1.o0) → o0. */
function workflow(name: string, branch: Node) {
  return workflowTemplate({
    id: workflowId(name),
    inputs: { x: intType() },
    outputs: { o0: intType() },
    nodes: [
      taskNode("n0", taskId("inc"), [bind("a", "start-node", "x")]),
      branch,
      taskNode("n2", taskId("inc"), [bind("a", "n1", "o0")], ["n1"]),
    ],
    outputBindings: [bind("o0", "n2", "o0")],
  });
}

const fractions = branchNode(
  "n1",
  "fractions",
  [bind("n0.o0", "n0", "o0"), bind(".x", "start-node", "x")],
  [
    { when: compareInt("n0.o0", Op.LT, 5), run: caseNode("n0", "double") },
    { when: compareInt(".x", Op.EQ, 6), run: caseNode("n1", "square") },
  ],
  caseNode("n2", "minus"),
  ["n0"],
);

const nested = branchNode(
  "n1",
  "outer",
  [bind("n0.o0", "n0", "o0")],
  [
    {
      when: compareInt("n0.o0", Op.LT, 10),
      run: branchNode(
        "n0",
        "inner",
        [bind("n0.o0", "n0", "o0")],
        [{ when: compareInt("n0.o0", Op.LT, 5), run: caseNode("n0", "double") }],
        caseNode("n1", "square"),
        ["n0"],
      ),
    },
  ],
  caseNode("n1", "minus"),
  ["n0"],
);

const guarded = branchNode(
  "n1",
  "guarded",
  [bind("n0.o0", "n0", "o0")],
  [{ when: compareInt("n0.o0", Op.LT, 5), run: caseNode("n0", "double") }],
  "The input must be below 4",
  ["n0"],
);

async function run(lp: string, name: string, x: number) {
  const id = { ...P, name };
  await t.admin.createExecution({
    ...id,
    spec: { launchPlan: launchPlanId(lp) },
    inputs: { literals: { x: literalInt(x) } },
  });
  return eventually(
    () => t.admin.getExecution({ id }),
    (e) => [W.SUCCEEDED, W.FAILED].includes(e.closure?.phase ?? 0),
  );
}

async function outputOf(name: string) {
  const data = await t.admin.getExecutionData({ id: { ...P, name } });
  return data.fullOutputs?.literals.o0;
}

/** Node executions under a parent: [node id, spec node id, phase]. */
async function childrenOf(name: string, parent: string) {
  const list = await t.admin.listNodeExecutions({
    workflowExecutionId: { ...P, name },
    limit: 10,
    uniqueParentId: parent,
  });
  return list.nodeExecutions.map((n) => [n.id?.nodeId, n.metadata?.specNodeId, n.closure?.phase]);
}

beforeAll(async () => {
  t = await startTestServer();
  await t.admin.registerProject({ project: { id: "flytesnacks", name: "flytesnacks" } });
  for (const [name, [input, expression]] of Object.entries(TASKS)) {
    const template = taskTemplate({
      inputs: { [input]: intType() },
      outputs: { o0: intType() },
      command: ["sh", "-c", `echo ${expression} > {{.outputPrefix}}/o0`],
    });
    await t.admin.createTask({ id: taskId(name), spec: { template } });
  }
  for (const [name, branch] of [
    ["fractions", fractions],
    ["nested", nested],
    ["guarded", guarded],
  ] as const) {
    await t.admin.createWorkflow({ id: workflowId(name), spec: { template: workflow(name, branch) } });
    await t.admin.createLaunchPlan({ id: launchPlanId(name), spec: { workflowId: workflowId(name) } });
  }
});
afterAll(async () => {
  await t?.stop();
});

describe("flytekit conditionals", () => {
  it("are stored with their case nodes renamed <branch>-<case>, listed in the connections", async () => {
    const wf = await t.admin.getWorkflow({ id: workflowId("fractions") });
    const primary = wf.closure?.compiledWorkflow?.primary;
    const branch = primary?.template?.nodes.find((n) => n.id === "n1");
    const ie = branch?.target.case === "branchNode" ? branch.target.value.ifElse : undefined;
    const elseNode = ie?.default.case === "elseNode" ? ie.default.value : undefined;
    expect([ie?.case?.thenNode?.id, ...(ie?.other ?? []).map((o) => o.thenNode?.id), elseNode?.id]).toEqual([
      "n1-n0",
      "n1-n1",
      "n1-n2",
    ]);
    const up = primary?.connections?.upstream ?? {};
    expect(Object.fromEntries(Object.entries(up).map(([k, v]) => [k, v.ids]))).toEqual({
      "end-node": ["n2"],
      n0: ["start-node"],
      n1: ["n0"],
      "n1-n0": ["n0"],
      "n1-n1": ["n0"],
      "n1-n2": ["n0"],
      n2: ["n1"],
    });
    expect(primary?.connections?.downstream.n0?.ids).toEqual(["n1"]);
  });

  it("run the case that holds as a child of the branch, named after its renamed id", async () => {
    const cases: [string, number, number, string][] = [
      ["frac-if", 1, 5, "n1-n0"],
      ["frac-elif", 6, 50, "n1-n1"],
      ["frac-else", 20, -78, "n1-n2"],
    ];
    for (const [name, x, out, spec] of cases) {
      const e = await run("fractions", name, x);
      expect(e.closure?.phase, name).toBe(W.SUCCEEDED);
      expect(await outputOf(name)).toEqual(literalInt(out));
      expect(await childrenOf(name, "n1")).toEqual([[`n1-0-${spec}`, spec, N.SUCCEEDED]]);
    }
    const top = await t.admin.listNodeExecutions({
      workflowExecutionId: { ...P, name: "frac-if" },
      limit: 10,
    });
    expect(top.nodeExecutions.map((n) => [n.id?.nodeId, n.closure?.phase])).toEqual([
      ["n0", N.SUCCEEDED],
      ["n1", N.SUCCEEDED],
      ["n2", N.SUCCEEDED],
    ]);
  });

  it("nest: a branch inside a case runs its own case as its child (n1-n0-n0)", async () => {
    const e = await run("nested", "nested-if", 1);
    expect(e.closure?.phase).toBe(W.SUCCEEDED);
    expect(await outputOf("nested-if")).toEqual(literalInt(5));
    expect(await childrenOf("nested-if", "n1")).toEqual([["n1-0-n1-n0", "n1-n0", N.SUCCEEDED]]);
    expect(await childrenOf("nested-if", "n1-0-n1-n0")).toEqual([
      ["n1-0-n1-n0-0-n1-n0-n0", "n1-n0-n0", N.SUCCEEDED],
    ]);
    const wf = await t.admin.getWorkflow({ id: workflowId("nested") });
    const up = wf.closure?.compiledWorkflow?.primary?.connections?.upstream ?? {};
    expect(Object.keys(up).sort()).toEqual([
      "end-node",
      "n0",
      "n1",
      "n1-n0",
      "n1-n0-n0",
      "n1-n0-n1",
      "n1-n1",
      "n2",
    ]);
    await run("nested", "nested-inner-else", 5);
    expect(await outputOf("nested-inner-else")).toEqual(literalInt(37));
    expect(await childrenOf("nested-inner-else", "n1-0-n1-n0")).toEqual([
      ["n1-0-n1-n0-0-n1-n0-n1", "n1-n0-n1", N.SUCCEEDED],
    ]);
    await run("nested", "nested-outer-else", 9);
    expect(await outputOf("nested-outer-else")).toEqual(literalInt(-89));
    expect(await childrenOf("nested-outer-else", "n1")).toEqual([["n1-0-n1-n1", "n1-n1", N.SUCCEEDED]]);
  });

  it("fail USER UserProvidedError with the else-error's message when no case holds", async () => {
    const e = await run("guarded", "guarded-fails", 7);
    expect(e.closure?.phase).toBe(W.FAILED);
    const error = e.closure?.outputResult.case === "error" ? e.closure.outputResult.value : undefined;
    expect(error?.code).toBe("UserProvidedError");
    expect(error?.message).toContain("The input must be below 4");
    expect(await childrenOf("guarded-fails", "n1")).toEqual([]);
  });
});
