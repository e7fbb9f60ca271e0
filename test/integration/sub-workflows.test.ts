import { create, toBinary } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CompiledWorkflowClosureSchema } from "../../gen/flyteidl/core/compiler_pb.js";
import {
  NodeExecution_Phase as N,
  WorkflowExecution_Phase as W,
} from "../../gen/flyteidl/core/execution_pb.js";
import type { Identifier } from "../../gen/flyteidl/core/identifier_pb.js";
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
import { expectCode } from "../support/expect-error.js";
import { startTestServer, type TestServer } from "../support/test-server.js";

let t: TestServer;
const P = { project: "flytesnacks", domain: "development" };
const subNode = (id: string, ref: Identifier, inputs: ReturnType<typeof bind>[]): Node =>
  create(NodeSchema, {
    id,
    inputs,
    target: { case: "workflowNode", value: { reference: { case: "subWorkflowRef", value: ref } } },
  });

beforeAll(async () => {
  t = await startTestServer();
  await t.admin.registerProject({ project: { id: "flytesnacks", name: "flytesnacks" } });
  await t.admin.createTask({
    id: taskId("inc"),
    spec: {
      template: taskTemplate({
        inputs: { a: intType() },
        outputs: { o: intType() },
        command: ["sh", "-c", "echo $(({{.inputs.a}} + 1)) > {{.outputPrefix}}/o"],
      }),
    },
  });
  await t.admin.createTask({
    id: taskId("boom"),
    spec: {
      template: taskTemplate({
        inputs: { a: intType() },
        outputs: { o: intType() },
        command: ["sh", "-c", "echo deep failure >&2; exit 2"],
      }),
    },
  });
  const inner = (task: string) =>
    workflowTemplate({
      id: workflowId(`inner-${task}`),
      inputs: { a: intType() },
      outputs: { o: intType() },
      nodes: [taskNode("b0", taskId(task), [bind("a", "", "a")])],
      outputBindings: [bind("o", "b0", "o")],
    });
  const middle = (task: string) =>
    workflowTemplate({
      id: workflowId(`middle-${task}`),
      inputs: { a: intType() },
      outputs: { o: intType() },
      nodes: [
        taskNode("a0", taskId("inc"), [bind("a", "", "a")]),
        subNode("inner", workflowId(`inner-${task}`), [bind("a", "a0", "o")]),
      ],
      outputBindings: [bind("o", "inner", "o")],
    });
  for (const task of ["inc", "boom"]) {
    const outer = workflowTemplate({
      inputs: { x: intType() },
      outputs: { o: intType() },
      nodes: [
        subNode("sw", workflowId(`middle-${task}`), [bind("a", "", "x")]),
        taskNode("n0", taskId("inc"), [bind("a", "sw", "o")]),
      ],
      outputBindings: [bind("o", "n0", "o")],
    });
    await t.admin.createWorkflow({
      id: workflowId(`nested-${task}`),
      spec: { template: outer, subWorkflows: [middle(task), inner(task)] },
    });
    await t.admin.createLaunchPlan({
      id: launchPlanId(`nested-${task}`),
      spec: { workflowId: workflowId(`nested-${task}`) },
    });
  }
});
afterAll(async () => {
  await t?.stop();
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
  );
};

describe("sub-workflow nodes", () => {
  it("run two levels deep, bind outputs back, and list children under their parent nodes", async () => {
    const e = await run("nested-inc", "nested");
    expect(e.closure?.phase).toBe(W.SUCCEEDED);
    expect((await t.admin.getExecutionData({ id: e.id })).fullOutputs?.literals.o).toEqual(literalInt(4));
    const list = async (parent: string) =>
      (
        await t.admin.listNodeExecutions({ workflowExecutionId: e.id, limit: 20, uniqueParentId: parent })
      ).nodeExecutions.map((n) => [n.id?.nodeId, n.metadata?.specNodeId, n.closure?.phase]);
    expect(await list("")).toEqual([
      ["sw", "sw", N.SUCCEEDED],
      ["n0", "n0", N.SUCCEEDED],
    ]);
    expect(await list("sw")).toEqual([
      ["sw-0-a0", "a0", N.SUCCEEDED],
      ["sw-0-inner", "inner", N.SUCCEEDED],
    ]);
    expect(await list("sw-0-inner")).toEqual([["sw-0-inner-0-b0", "b0", N.SUCCEEDED]]);
  });

  it("a failure deep inside fails every level up", async () => {
    const e = await run("nested-boom", "nested-fail");
    expect(e.closure?.phase).toBe(W.FAILED);
    expect(e.closure?.outputResult.case === "error" && e.closure.outputResult.value.message).toContain(
      "deep failure",
    );
    const sw = await t.admin.getNodeExecution({ id: { nodeId: "sw", executionId: e.id } });
    expect(sw.closure?.phase).toBe(N.FAILED);
  });

  it("a workflow that contains itself is a compile error, directly or through another sub-workflow", async () => {
    const selfRef = (name: string, ref: string) =>
      workflowTemplate({
        id: workflowId(name),
        inputs: { a: intType() },
        outputs: { o: intType() },
        nodes: [subNode("again", workflowId(ref), [bind("a", "", "a")])],
        outputBindings: [bind("o", "again", "o")],
      });
    const key = (name: string) => `flytesnacks/development/${name}/v1`;
    await expectCode(
      t.admin.createWorkflow({
        id: workflowId("ouroboros"),
        spec: {
          template: selfRef("ouroboros", "ouroboros"),
          subWorkflows: [selfRef("ouroboros", "ouroboros")],
        },
      }),
      Code.InvalidArgument,
      `failed to compile workflow for [resource_type:WORKFLOW project:"flytesnacks" domain:"development" name:"ouroboros" version:"v1"] with err: Collected Errors: 1\n\tError 0: Code: CycleDetected, Node Id: again, Description: A cycle has been detected among sub-workflows [${key("ouroboros")} -> ${key("ouroboros")}]: a workflow cannot contain itself.\n`,
    );
    await expectCode(
      t.admin.createWorkflow({
        id: workflowId("ping-top"),
        spec: {
          template: selfRef("ping-top", "ping"),
          subWorkflows: [selfRef("ping", "pong"), selfRef("pong", "ping")],
        },
      }),
      Code.InvalidArgument,
      /Code: CycleDetected, Node Id: again, Description: A cycle has been detected among sub-workflows \[.*\/ping\/v1 -> .*\/pong\/v1 -> .*\/ping\/v1\]/,
    );
  });

  it("a stored closure whose sub-workflow contains itself fails the node instead of nesting without end", async () => {
    // The compiler refuses such a closure now; one stored before (or edited by hand) is rewritten here.
    const inner = workflowTemplate({
      id: workflowId("loop-inner"),
      inputs: { a: intType() },
      outputs: { o: intType() },
      nodes: [taskNode("b0", taskId("inc"), [bind("a", "", "a")])],
      outputBindings: [bind("o", "b0", "o")],
    });
    const outer = workflowTemplate({
      inputs: { x: intType() },
      outputs: { o: intType() },
      nodes: [subNode("sw", workflowId("loop-inner"), [bind("a", "", "x")])],
      outputBindings: [bind("o", "sw", "o")],
    });
    await t.admin.createWorkflow({
      id: workflowId("loop"),
      spec: { template: outer, subWorkflows: [inner] },
    });
    const closure = (await t.admin.getWorkflow({ id: workflowId("loop") })).closure?.compiledWorkflow;
    const nodes = closure?.subWorkflows[0]?.template?.nodes;
    const b0 = nodes?.findIndex((n) => n.id === "b0") ?? -1;
    if (closure === undefined || nodes === undefined || b0 < 0) throw new Error("no sub-workflow stored");
    nodes[b0] = subNode("b0", workflowId("loop-inner"), [bind("a", "start-node", "a")]);
    await t.server
      .db("workflows")
      .where({ name: "loop" })
      .update({ closure: Buffer.from(toBinary(CompiledWorkflowClosureSchema, closure)) });
    await t.admin.createLaunchPlan({ id: launchPlanId("loop"), spec: { workflowId: workflowId("loop") } });

    const e = await run("loop", "loop1");
    expect(e.closure?.phase).toBe(W.FAILED);
    const sw = await t.admin.getNodeExecution({ id: { nodeId: "sw", executionId: e.id } });
    expect(sw.closure?.phase).toBe(N.FAILED);
    const error = sw.closure?.outputResult.case === "error" ? sw.closure.outputResult.value : undefined;
    expect(error).toMatchObject({
      code: "MaxNestingDepthExceeded",
      message:
        "sub-workflow [loop-inner] of node [sw] contains itself, directly or through other sub-workflows, so it would nest without end",
    });
    const children = await t.admin.listNodeExecutions({
      workflowExecutionId: e.id,
      limit: 20,
      uniqueParentId: "sw",
    });
    expect(children.nodeExecutions).toEqual([]);
  });
});
