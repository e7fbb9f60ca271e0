// Big workflows run: chains and fan-outs of 1,000 and 10,000 `echo` nodes finish with the right outputs and every
// node recorded once, and the server keeps answering other calls while they run. (How fast is a benchmark:
// test/bench/big-workflows.bench.ts.)

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WorkflowExecution_Phase as Phase } from "../../gen/flyteidl/core/execution_pb.js";
import type { Node } from "../../gen/flyteidl/core/workflow_pb.js";
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

const P = { project: "flytesnacks", domain: "development" };
let t: TestServer;

beforeAll(async () => {
  t = await startTestServer();
  await t.admin.registerProject({ project: { id: P.project, name: P.project } });
  await t.admin.createTask({
    id: taskId("echo"),
    spec: { template: taskTemplate({ type: "echo", inputs: { a: intType() }, outputs: { a: intType() } }) },
  });
});

afterAll(async () => {
  await t?.stop();
});

/** A chain n0 → n1 → … (each passes `a` on), or a fan-out of n independent nodes reading the input. */
function shape(kind: "chain" | "fan-out", n: number): Node[] {
  return Array.from({ length: n }, (_, i) => {
    const from = kind === "chain" && i > 0 ? bind("a", `n${i - 1}`, "a") : bind("a", "", "x");
    return taskNode(`n${i}`, taskId("echo"), [from]);
  });
}

async function run(kind: "chain" | "fan-out", n: number): Promise<void> {
  const name = `${kind}-${n}`;
  const template = workflowTemplate({
    inputs: { x: intType() },
    outputs: { first: intType(), last: intType() },
    nodes: shape(kind, n),
    outputBindings: [bind("first", "n0", "a"), bind("last", `n${n - 1}`, "a")],
  });
  await t.admin.createWorkflow({ id: workflowId(name), spec: { template } });
  await t.admin.createLaunchPlan({ id: launchPlanId(name), spec: { workflowId: workflowId(name) } });
  const id = { ...P, name: `e-${name}` };
  await t.admin.createExecution({
    ...P,
    name: id.name,
    spec: { launchPlan: launchPlanId(name) },
    inputs: { literals: { x: literalInt(42) } },
  });
  // Other calls are answered while it runs (over both clients).
  let answered = 0;
  const exec = await eventually(
    async () => {
      await t.admin.getVersion({});
      await t.grpcJs.unary("getVersion", {});
      answered++;
      return t.admin.getExecution({ id });
    },
    (e) => e.closure?.phase === Phase.SUCCEEDED || e.closure?.phase === Phase.FAILED,
    120_000,
    20,
  );
  expect(exec.closure?.phase).toBe(Phase.SUCCEEDED);
  expect(answered).toBeGreaterThan(0);
  const data = await t.admin.getExecutionData({ id });
  const outputs = data.fullOutputs?.literals ?? {};
  for (const k of ["first", "last"]) {
    const v = outputs[k]?.value;
    const p =
      v?.case === "scalar" && v.value.value.case === "primitive" ? v.value.value.value.value : undefined;
    expect(p).toEqual({ case: "integer", value: 42n });
  }
  const counts = (await t.server.db.raw(
    `SELECT count(*)::int AS nodes, count(*) FILTER (WHERE n.phase = 'SUCCEEDED')::int AS succeeded,
            count(DISTINCT n.node_id)::int AS distinct_ids
       FROM node_executions n JOIN executions e ON e.id = n.execution_id
      WHERE e.execution_name = ? AND n.node_id NOT IN ('start-node', 'end-node')`,
    [id.name],
  )) as { rows: { nodes: number; succeeded: number; distinct_ids: number }[] };
  expect(counts.rows[0]).toEqual({ nodes: n, succeeded: n, distinct_ids: n });
}

describe("big workflows", () => {
  it("run a chain of 1,000 echo nodes", () => run("chain", 1_000));
  it("run a fan-out of 1,000 echo nodes", () => run("fan-out", 1_000));
  it("run a chain of 10,000 echo nodes", () => run("chain", 10_000), 180_000);
  it("run a fan-out of 10,000 echo nodes", () => run("fan-out", 10_000), 180_000);
});
