import { create } from "@bufbuild/protobuf";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ComparisonExpression_Operator as Op } from "../../gen/flyteidl/core/condition_pb.js";
import {
  ExecutionError_ErrorKind,
  NodeExecution_Phase as N,
  WorkflowExecution_Phase as W,
} from "../../gen/flyteidl/core/execution_pb.js";
import { type Node, NodeSchema } from "../../gen/flyteidl/core/workflow_pb.js";
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
const gt = (v: string, n: number) => ({
  expr: {
    case: "comparison" as const,
    value: {
      operator: Op.GT,
      leftValue: { val: { case: "var" as const, value: v } },
      rightValue: {
        val: { case: "primitive" as const, value: { value: { case: "integer" as const, value: BigInt(n) } } },
      },
    },
  },
});

function branch(withElse: boolean): Node {
  return create(NodeSchema, {
    id: "pick",
    inputs: [bind("x", "", "x")],
    target: {
      case: "branchNode",
      value: {
        ifElse: {
          case: { condition: gt("x", 3), thenNode: taskNode("big", taskId("echo"), [bind("a", "", "x")]) },
          default: withElse
            ? { case: "elseNode", value: taskNode("small", taskId("echo"), [bind("a", "", "x")]) }
            : { case: "error", value: { failedNodeId: "pick", message: "x is too small" } },
        },
      },
    },
  });
}

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

beforeAll(async () => {
  t = await startTestServer();
  await t.admin.registerProject({ project: { id: "flytesnacks", name: "flytesnacks" } });
  await t.admin.createTask({
    id: taskId("echo"),
    spec: { template: taskTemplate({ type: "echo", inputs: { a: intType() }, outputs: { a: intType() } }) },
  });
  for (const [name, withElse] of [
    ["branchy", true],
    ["strict", false],
  ] as const) {
    const wf = workflowTemplate({
      inputs: { x: intType() },
      outputs: { o: intType() },
      nodes: [branch(withElse)],
      outputBindings: [bind("o", "pick", "a")],
    });
    await t.admin.createWorkflow({ id: workflowId(name), spec: { template: wf } });
    await t.admin.createLaunchPlan({ id: launchPlanId(name), spec: { workflowId: workflowId(name) } });
  }
});
afterAll(async () => {
  await t?.stop();
});

describe("branch nodes", () => {
  it("run the case whose condition holds under the branch; the others leave no node execution", async () => {
    const e = await run("branchy", "took-big", 5);
    expect(e.closure?.phase).toBe(W.SUCCEEDED);
    expect((await t.admin.getExecutionData({ id: e.id })).fullOutputs?.literals.o).toEqual(literalInt(5));
    const top = await t.admin.listNodeExecutions({ workflowExecutionId: e.id, limit: 10 });
    expect(top.nodeExecutions.map((n) => [n.id?.nodeId, n.closure?.phase, n.metadata?.isParentNode])).toEqual(
      [["pick", N.SUCCEEDED, true]],
    );
    const children = await t.admin.listNodeExecutions({
      workflowExecutionId: e.id,
      limit: 10,
      uniqueParentId: "pick",
    });
    expect(
      children.nodeExecutions.map((n) => [n.id?.nodeId, n.metadata?.specNodeId, n.closure?.phase]),
    ).toEqual([["pick-0-pick-big", "pick-big", N.SUCCEEDED]]);
  });

  it("take the else branch when nothing matches", async () => {
    const e = await run("branchy", "took-small", 1);
    expect(e.closure?.phase).toBe(W.SUCCEEDED);
    const children = await t.admin.listNodeExecutions({
      workflowExecutionId: e.id,
      limit: 10,
      uniqueParentId: "pick",
    });
    expect(
      children.nodeExecutions.map((n) => [n.id?.nodeId, n.metadata?.specNodeId, n.closure?.phase]),
    ).toEqual([["pick-0-pick-small", "pick-small", N.SUCCEEDED]]);
  });

  it("fail with the else-error when nothing matches and there is no else node", async () => {
    const e = await run("strict", "no-match", 1);
    expect(e.closure?.phase).toBe(W.FAILED);
    const error = e.closure?.outputResult.case === "error" ? e.closure.outputResult.value : undefined;
    expect([error?.code, error?.kind]).toEqual(["UserProvidedError", ExecutionError_ErrorKind.USER]);
    expect(error?.message).toContain("x is too small");
  });
});
