import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { WorkflowSpecSchema } from "../../../gen/flyteidl/admin/workflow_pb.js";
import type { CompiledWorkflow } from "../../../gen/flyteidl/core/compiler_pb.js";
import { ExecutionError_ErrorKind, ExecutionErrorSchema } from "../../../gen/flyteidl/core/execution_pb.js";
import { LiteralMapSchema } from "../../../gen/flyteidl/core/literals_pb.js";
import { compileWorkflow } from "../../../server/compiler/compile-workflow.js";
import { type NodeState, type NodeStatus, resolveBindings } from "../../../server/engine/plan.js";
import { planExecution, WorkflowPlan } from "../../../server/engine/workflow-plan.js";
import {
  bind,
  intType,
  literalInt,
  taskId,
  taskNode,
  taskTemplate,
  workflowId,
  workflowTemplate,
} from "../../fixtures/flyte-builders.js";

const add = taskTemplate({ id: taskId("add"), inputs: { a: intType() }, outputs: { o: intType() } });

function compiled(nodes: ReturnType<typeof taskNode>[], outputs = [bind("out", "c", "o")]): CompiledWorkflow {
  const template = workflowTemplate({
    id: workflowId("wf"),
    inputs: { x: intType() },
    outputs: { out: intType() },
    nodes,
    outputBindings: outputs,
  });
  const r = compileWorkflow(create(WorkflowSpecSchema, { template }), { tasks: [add], launchPlans: [] });
  if (!("closure" in r) || r.closure.primary === undefined) throw new Error("compile failed");
  return r.closure.primary;
}

// a -> b -> c, and d independent
const diamond = compiled([
  taskNode("a", taskId("add"), [bind("a", "", "x")]),
  taskNode("b", taskId("add"), [bind("a", "a", "o")]),
  taskNode("c", taskId("add"), [bind("a", "b", "o")]),
  taskNode("d", taskId("add"), [bind("a", "", "x")]),
]);
const inputs = create(LiteralMapSchema, { literals: { x: literalInt(1) } });
const out = (n: number) => create(LiteralMapSchema, { literals: { o: literalInt(n) } });
const plan = (nodes: [string, NodeState][], extra: { aborting?: boolean; maxParallelism?: number } = {}) =>
  planExecution({
    workflow: diamond,
    inputs,
    nodes: new Map(nodes),
    aborting: extra.aborting ?? false,
    maxParallelism: extra.maxParallelism ?? 0,
  });
const started = (actions: ReturnType<typeof plan>) =>
  actions.flatMap((a) => (a.kind === "start-node" ? [a.node.id] : []));

describe("planExecution", () => {
  it("starts every node whose upstream nodes are done, with resolved inputs", () => {
    const actions = plan([]);
    expect(started(actions)).toEqual(["a", "d"]);
    const first = actions[0];
    expect(first?.kind === "start-node" && first.inputs.literals.a).toEqual(literalInt(1));
    expect(
      started(
        plan([
          ["a", { status: "succeeded", outputs: out(2) }],
          ["d", { status: "running" }],
        ]),
      ),
    ).toEqual(["b"]);
  });

  it("waits while nodes run and starts nothing twice", () => {
    expect(
      plan([
        ["a", { status: "running" }],
        ["d", { status: "running" }],
      ]),
    ).toEqual([]);
  });

  it("caps running nodes at max parallelism", () => {
    expect(started(plan([], { maxParallelism: 1 }))).toEqual(["a"]);
    expect(started(plan([["a", { status: "running" }]], { maxParallelism: 1 }))).toEqual([]);
  });

  it("succeeds with the end-node's outputs once every node is done", () => {
    const actions = plan([
      ["a", { status: "succeeded", outputs: out(2) }],
      ["b", { status: "succeeded", outputs: out(3) }],
      ["c", { status: "succeeded", outputs: out(4) }],
      ["d", { status: "skipped" }],
    ]);
    expect(actions).toHaveLength(1);
    const a = actions[0];
    expect(a?.kind === "succeed" && a.outputs.literals.out).toEqual(literalInt(4));
  });

  it("fails immediately on a failed node and aborts the running ones", () => {
    const error = create(ExecutionErrorSchema, {
      code: "Boom",
      message: "bad",
      kind: ExecutionError_ErrorKind.USER,
    });
    const actions = plan([
      ["a", { status: "failed", error }],
      ["d", { status: "running" }],
    ]);
    expect(actions.map((a) => a.kind)).toEqual(["abort-node", "fail"]);
    const f = actions[1];
    expect(f?.kind === "fail" && f.error).toMatchObject({ code: "Boom", message: "failed at Node[a]. bad" });
  });

  it("aborts running nodes first, then reports the workflow aborted", () => {
    expect(
      plan(
        [
          ["a", { status: "running" }],
          ["d", { status: "succeeded", outputs: out(1) }],
        ],
        { aborting: true },
      ),
    ).toEqual([{ kind: "abort-node", nodeId: "a" }]);
    expect(plan([["a", { status: "aborted" }]], { aborting: true })).toEqual([{ kind: "aborted" }]);
  });

  it("fails the workflow when a binding cannot be resolved", () => {
    const broken = compiled([taskNode("c", taskId("add"), [bind("a", "", "x")])]);
    const actions = planExecution({
      workflow: broken,
      inputs: create(LiteralMapSchema),
      nodes: new Map(),
      aborting: false,
      maxParallelism: 0,
    });
    expect(actions.map((a) => a.kind)).toEqual(["fail"]);
  });

  it("aborts what runs before failing on a binding it cannot resolve", () => {
    // b's upstream a succeeded without the output b binds to, while d runs.
    const actions = plan([
      ["a", { status: "succeeded", outputs: create(LiteralMapSchema) }],
      ["d", { status: "running" }],
    ]);
    expect(actions.map((a) => a.kind)).toEqual(["abort-node", "fail"]);
    expect(actions[0]).toEqual({ kind: "abort-node", nodeId: "d" });
  });

  it("starts at most `limit` ready nodes per step, in template order", () => {
    const wide = compiled(
      Array.from({ length: 6 }, (_, i) => taskNode(`w${i}`, taskId("add"), [bind("a", "", "x")])),
      [bind("out", "w5", "o")],
    );
    const p = new WorkflowPlan(wide, inputs, 0);
    expect(started(p.next(false, 4))).toEqual(["w0", "w1", "w2", "w3"]);
    p.update("w1", { status: "running" });
    expect(started(p.next(false, 4))).toEqual(["w0", "w2", "w3", "w4"]);
  });

  it("resolves collections and maps of promises", () => {
    const nodes = new Map<string, NodeState>([["a", { status: "succeeded", outputs: out(7) }]]);
    const lm = resolveBindings(
      [
        {
          $typeName: "flyteidl.core.Binding",
          var: "xs",
          binding: {
            $typeName: "flyteidl.core.BindingData",
            value: {
              case: "collection",
              value: {
                $typeName: "flyteidl.core.BindingDataCollection",
                bindings: [bindingData(bind("", "a", "o")), bindingData(bind("", "", "x"))],
              },
            },
          },
        },
      ],
      nodes,
      inputs,
    );
    const xs = lm.literals.xs?.value;
    expect(xs?.case === "collection" && xs.value.literals).toEqual([literalInt(7), literalInt(1)]);
  });
});

describe("failure policies and the failure node", () => {
  const error = create(ExecutionErrorSchema, {
    code: "Boom",
    message: "bad",
    kind: ExecutionError_ErrorKind.USER,
  });
  const withPolicy = (onFailure: number, failureNode = false): CompiledWorkflow => {
    const w = structuredClone(diamond);
    if (w.template?.metadata !== undefined) w.template.metadata.onFailure = onFailure;
    if (failureNode && w.template !== undefined)
      w.template.failureNode = taskNode("cleanup", taskId("add"), [bind("a", "", "x")]);
    return w;
  };
  const planWith = (w: CompiledWorkflow, nodes: [string, NodeState][]) =>
    planExecution({ workflow: w, inputs, nodes: new Map(nodes), aborting: false, maxParallelism: 0 });

  it("FAIL_AFTER_EXECUTABLE_NODES_COMPLETE keeps running what can still run, then fails", () => {
    const w = withPolicy(1);
    expect(
      planWith(w, [["a", { status: "failed", error }]]).map((a) =>
        a.kind === "start-node" ? a.node.id : a.kind,
      ),
    ).toEqual(["d"]);
    expect(
      planWith(w, [
        ["a", { status: "failed", error }],
        ["d", { status: "running" }],
      ]),
    ).toEqual([]);
    expect(
      planWith(w, [
        ["a", { status: "failed", error }],
        ["d", { status: "succeeded", outputs: out(1) }],
      ]).map((a) => a.kind),
    ).toEqual(["fail"]);
  });

  it("runs the failure node before failing", () => {
    const w = withPolicy(0, true);
    const first = planWith(w, [
      ["a", { status: "failed", error }],
      ["d", { status: "running" }],
    ]);
    expect(first.map((a) => (a.kind === "start-node" ? `start:${a.node.id}` : a.kind))).toEqual([
      "abort-node",
      "failing",
      "start:cleanup",
    ]);
    expect(
      planWith(w, [
        ["a", { status: "failed", error }],
        ["cleanup", { status: "running" }],
      ]),
    ).toEqual([]);
    expect(
      planWith(w, [
        ["a", { status: "failed", error }],
        ["cleanup", { status: "succeeded", outputs: out(1) }],
      ]).map((a) => a.kind),
    ).toEqual(["fail"]);
  });
});

/** The actions, or the binding error a plan throws (both ways must agree). */
function outcome(fn: () => unknown): unknown {
  try {
    return fn();
  } catch (err) {
    return { threw: String(err) };
  }
}

describe("WorkflowPlan", () => {
  it("asks for the outputs the ready nodes bind to, and only those not read yet", () => {
    const p = new WorkflowPlan(diamond, inputs, 0);
    expect(p.outputsWanted(false)).toEqual([]);
    p.update("a", { status: "succeeded" });
    p.update("d", { status: "running" });
    expect(p.outputsWanted(false)).toEqual(["a"]);
    expect(p.outputsWanted(true)).toEqual([]);
    p.update("a", { status: "succeeded", outputs: out(2) });
    expect(p.outputsWanted(false)).toEqual([]);
    expect(started(p.next(false))).toEqual(["b"]);
  });

  it("asks for what the end-node binds once every node is done", () => {
    const p = new WorkflowPlan(diamond, inputs, 0);
    for (const id of ["a", "b", "c", "d"]) p.update(id, { status: "succeeded" });
    expect(p.outputsWanted(false)).toEqual(["c"]);
  });

  it("agrees with a plan from scratch after every change (random DAGs and histories)", () => {
    let seed = 7;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const statuses: NodeStatus[] = ["running", "succeeded", "failed", "aborted", "skipped"];
    for (let trial = 0; trial < 40; trial++) {
      const size = 2 + rand(8);
      const nodes = Array.from({ length: size }, (_, i) => {
        const from = i === 0 || rand(3) === 0 ? ["", "x"] : [`n${rand(i)}`, "o"];
        return taskNode(`n${i}`, taskId("add"), [bind("a", from[0] ?? "", from[1] ?? "")]);
      });
      const w = compiled(nodes, [bind("out", `n${size - 1}`, "o")]);
      const incremental = new WorkflowPlan(w, inputs, trial % 3);
      const history = new Map<string, NodeState>();
      for (let step = 0; step < 3 * size; step++) {
        const id = `n${rand(size)}`;
        const status = statuses[rand(statuses.length)] ?? "running";
        const state: NodeState = status === "succeeded" ? { status, outputs: out(step) } : { status };
        history.set(id, state);
        incremental.update(id, state);
        for (const aborting of [false, true]) {
          const fresh = outcome(() =>
            planExecution({ workflow: w, inputs, nodes: history, aborting, maxParallelism: trial % 3 }),
          );
          expect(outcome(() => incremental.next(aborting))).toEqual(fresh);
        }
      }
    }
  });

  it("moves along a 10,000-node chain one node per change", () => {
    const n = 10_000;
    const chain = compiled(
      Array.from({ length: n }, (_, i) =>
        taskNode(`n${i}`, taskId("add"), [bind("a", i === 0 ? "" : `n${i - 1}`, i === 0 ? "x" : "o")]),
      ),
      [bind("out", `n${n - 1}`, "o")],
    );
    const p = new WorkflowPlan(chain, inputs, 0);
    for (let i = 0; i < n; i++) {
      expect(started(p.next(false))).toEqual([`n${i}`]);
      p.update(`n${i}`, { status: "succeeded", outputs: out(i) });
    }
    expect(p.next(false).map((a) => a.kind)).toEqual(["succeed"]);
  });
});

/** A binding's data (every binding the fixtures build has one). */
function bindingData(b: ReturnType<typeof bind>) {
  if (b.binding === undefined) throw new Error("a binding without data");
  return b.binding;
}
