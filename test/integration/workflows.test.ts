import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ResourceType } from "../../gen/flyteidl/core/identifier_pb.js";
import {
  bind,
  intType,
  stringType,
  taskId,
  taskNode,
  taskTemplate,
  workflowId,
  workflowTemplate,
} from "../fixtures/flyte-builders.js";
import { expectCode } from "../support/expect-error.js";
import { startTestServer, type TestServer } from "../support/test-server.js";

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
  await t.admin.registerProject({ project: { id: "flytesnacks", name: "flytesnacks" } });
  await t.admin.createTask({
    id: taskId("add"),
    spec: { template: taskTemplate({ inputs: { a: intType(), b: intType() }, outputs: { o: intType() } }) },
  });
});
afterAll(async () => {
  await t?.stop();
});

const addWf = (name: string, version = "v1", task = taskId("add")) =>
  workflowTemplate({
    id: workflowId(name, version),
    inputs: { x: intType() },
    outputs: { o0: intType() },
    nodes: [taskNode("n0", task, [bind("a", "", "x"), bind("b", "", "x")])],
    outputBindings: [bind("o0", "n0", "o")],
  });

describe("workflows", () => {
  it("compiles and stores the full closure; lists return the interface only", async () => {
    const id = workflowId("wf.add");
    await t.admin.createWorkflow({
      id,
      spec: { template: addWf("ignored", "zz"), description: { shortDescription: "adds x to x" } },
    });
    const wf = await t.admin.getWorkflow({ id: { ...id, resourceType: ResourceType.UNSPECIFIED } });
    const primary = wf.closure?.compiledWorkflow?.primary;
    expect(primary?.template?.id?.name).toBe("wf.add");
    expect(primary?.template?.nodes.map((n) => n.id)).toEqual(["start-node", "end-node", "n0"]);
    expect(primary?.connections?.upstream.n0?.ids).toEqual(["start-node"]);
    expect(wf.closure?.compiledWorkflow?.tasks[0]?.template?.id?.name).toBe("add");
    expect(wf.shortDescription).toBe("adds x to x");
    const listed = await t.admin.listWorkflows({
      id: { project: "flytesnacks", domain: "development", name: "wf.add" },
      limit: 10,
    });
    expect(listed.workflows).toHaveLength(1);
    const summary = listed.workflows[0]?.closure?.compiledWorkflow;
    expect(Object.keys(summary?.primary?.template?.interface?.inputs?.variables ?? {})).toEqual(["x"]);
    expect(summary?.primary?.template?.nodes).toEqual([]);
    expect(summary?.tasks).toEqual([]);
    const viaGrpcJs = await t.grpcJs.unary("getWorkflow", { id });
    expect(viaGrpcJs.closure?.compiledWorkflow?.primary?.template?.nodes).toHaveLength(3);
  });

  it("re-registration: identical → ALREADY_EXISTS with the typed detail, different → INVALID_ARGUMENT with a diff", async () => {
    const id = workflowId("wf.again");
    await t.admin.createWorkflow({ id, spec: { template: addWf("wf.again") } });
    const same = await expectCode(
      t.admin.createWorkflow({ id, spec: { template: addWf("wf.again") } }),
      Code.AlreadyExists,
      "workflow with identical structure already exists",
    );
    expect(same.details).toHaveLength(1);
    const changed = addWf("wf.again");
    changed.nodes[0]?.upstreamNodeIds.push();
    if (changed.interface?.inputs?.variables.x) changed.interface.inputs.variables.x.description = "changed";
    const diff = await expectCode(
      t.admin.createWorkflow({ id, spec: { template: changed } }),
      Code.InvalidArgument,
      /^wf\.again workflow with different structure already exists\. \(Please register a new version of the workflow\):\n\/primary\/template\/interface\/inputs\/variables\/x\/description:\n\t- "x" \n\t\+ "changed"/,
    );
    expect(diff.details).toHaveLength(1);
  });

  it("wraps missing references and compile errors in Flyte's text", async () => {
    const id = workflowId("wf.bad");
    await expectCode(
      t.admin.createWorkflow({ id, spec: { template: addWf("wf.bad", "v1", taskId("add", "v404")) } }),
      Code.InvalidArgument,
      'failed to compile workflow for [resource_type:WORKFLOW project:"flytesnacks" domain:"development" name:"wf.bad" version:"v1"] with err: missing entity of type TASK with identifier resource_type:TASK project:"flytesnacks" domain:"development" name:"add" version:"v404"',
    );
    const mismatched = workflowTemplate({
      id,
      inputs: { s: stringType() },
      nodes: [taskNode("n0", taskId("add"), [bind("a", "", "s"), bind("b", "", "s")])],
    });
    const err = await expectCode(
      t.admin.createWorkflow({ id, spec: { template: mismatched } }),
      Code.InvalidArgument,
    );
    expect(err.rawMessage).toMatch(
      /with err: Collected Errors: 2\n\tError 0: Code: MismatchingTypes, Node Id: n0, Description: Variable \[a\]/,
    );
    const empty = workflowTemplate({ id, nodes: [] });
    await expectCode(
      t.admin.createWorkflow({ id, spec: { template: empty } }),
      Code.InvalidArgument,
      /NoNodesFound/,
    );
    await expectCode(t.admin.createWorkflow({ id }), Code.InvalidArgument, "missing spec");
    await expectCode(
      t.admin.createWorkflow({ id: taskId("x"), spec: { template: empty } }),
      Code.InvalidArgument,
      /^unexpected resource type task/,
    );
  });

  it("gets a missing workflow as NOT_FOUND and lists names", async () => {
    await expectCode(
      t.admin.getWorkflow({ id: workflowId("ghost") }),
      Code.NotFound,
      /^missing entity of type WORKFLOW with identifier /,
    );
    const ids = await t.admin.listWorkflowIds({ project: "flytesnacks", domain: "development", limit: 10 });
    expect(ids.entities.map((e) => e.name)).toEqual(["wf.add", "wf.again"]);
  });
});
