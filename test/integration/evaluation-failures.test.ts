// Executions whose evaluation can never succeed fail at once with an error naming the node and the cause, instead of
// being tried again every lease (or started again and again within one evaluation), forever.
import { createHash } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ExecutionError_ErrorKind as Kind,
  NodeExecution_Phase as N,
  WorkflowExecution_Phase as W,
} from "../../gen/flyteidl/core/execution_pb.js";
import { type Literal, LiteralSchema } from "../../gen/flyteidl/core/literals_pb.js";
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
/** Well within the engine's 30 s lease: a failure must not wait for a retry. */
const PROMPTLY_MS = 10_000;

const echo = (id: string) => taskNode(id, taskId("echo"), [bind("a", "start-node", "x")]);

async function register(name: string, nodes: Node[], output: string) {
  const template = workflowTemplate({
    inputs: { x: intType() },
    outputs: { a: intType() },
    nodes,
    outputBindings: [bind("a", output, "a")],
  });
  await t.admin.createWorkflow({ id: workflowId(name), spec: { template } });
  await t.admin.createLaunchPlan({ id: launchPlanId(name), spec: { workflowId: workflowId(name) } });
}

async function run(lp: string, name: string, x: Literal) {
  const id = { ...P, name };
  await t.admin.createExecution({
    ...id,
    spec: { launchPlan: launchPlanId(lp) },
    inputs: { literals: { x } },
  });
  return eventually(
    () => t.admin.getExecution({ id }),
    (e) => [W.SUCCEEDED, W.FAILED].includes(e.closure?.phase ?? 0),
    PROMPTLY_MS,
  );
}

/** Stores bytes through the data proxy, as flytekit uploads an offloaded value; returns its URI. */
async function upload(bytes: Buffer, filename: string): Promise<string> {
  const md5 = createHash("md5").update(bytes).digest();
  const loc = await t.dataProxy.createUploadLocation({ ...P, filename, contentMd5: md5 });
  const res = await fetch(loc.signedUrl, {
    method: "PUT",
    body: bytes,
    headers: { "Content-MD5": md5.toString("base64"), ...loc.headers },
  });
  expect([200, 201]).toContain(res.status);
  return loc.nativeUrl;
}

beforeAll(async () => {
  t = await startTestServer();
  await t.admin.registerProject({ project: { id: "flytesnacks", name: "flytesnacks" } });
  await t.admin.createTask({
    id: taskId("echo"),
    spec: { template: taskTemplate({ type: "echo", inputs: { a: intType() }, outputs: { a: intType() } }) },
  });
  const gate = branchNode(
    "n0",
    "gate",
    [bind(".x", "start-node", "x")],
    [{ when: compareInt(".x", Op.GT, 3), run: echo("n0") }],
    echo("n1"),
  );
  await register("gated", [gate], "n0");
  // Its id is the one the branch's taken case runs under (`<branch>-<attempt>-<case>`).
  const clash = taskNode("n0-0-n0-n0", taskId("echo"), [bind("a", "n0", "a")], ["n0"]);
  await register("clashing", [gate, clash], "n0-0-n0-n0");
});
afterAll(async () => {
  await t?.stop();
});

describe("an evaluation that can never succeed", () => {
  it("fails its execution at once, naming the node and the cause (an offloaded value that cannot be decoded)", async () => {
    const uri = await upload(Buffer.from([0xff, 0xff, 0xff, 0xff]), "x_offloaded_metadata.pb");
    const x = create(LiteralSchema, {
      value: { case: "offloadedMetadata", value: { uri, sizeBytes: 4n, inferredType: intType() } },
    });
    const e = await run("gated", "undecodable", x);
    expect(e.closure?.phase).toBe(W.FAILED);
    const error = e.closure?.outputResult.case === "error" ? e.closure.outputResult.value : undefined;
    expect([error?.code, error?.kind]).toEqual(["EvaluationFailed", Kind.SYSTEM]);
    expect(error?.message).toMatch(/^cannot evaluate node \[n0\]: \w*Error: /);
    // The same engine evaluates other executions as before.
    expect((await run("gated", "decodable", literalInt(5))).closure?.phase).toBe(W.SUCCEEDED);
  });

  it("fails a node that would be started again and again (its id is another node execution's)", async () => {
    const e = await run("clashing", "clash", literalInt(5));
    expect(e.closure?.phase).toBe(W.FAILED);
    const error = e.closure?.outputResult.case === "error" ? e.closure.outputResult.value : undefined;
    expect(error?.code).toBe("EvaluationFailed");
    expect(error?.message).toContain("cannot evaluate node [n0-0-n0-n0]: starting node [n0-0-n0-n0]");
    const nodes = await t.admin.listNodeExecutions({ workflowExecutionId: e.id, limit: 10 });
    // The evaluation that ran the branch rolled back whole: no node is left running.
    const running = [N.UNDEFINED, N.QUEUED, N.RUNNING, N.DYNAMIC_RUNNING];
    expect(nodes.nodeExecutions.filter((n) => running.includes(n.closure?.phase ?? N.UNDEFINED))).toEqual([]);
  });
});
