// Array nodes as flytekit ≥ 1.12 serializes a map task (task-contract.md §5): the map task registered as its own task
// with a list-shaped interface, is_original_sub_node_interface false, bound inputs, parallelism and a success ratio;
// and what FlyteRemote.sync/wait read back (is_array, the array's task execution and its data).
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { create, toBinary } from "@bufbuild/protobuf";
import type { Knex } from "knex";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  NodeExecution_Phase as N,
  TaskExecution_Phase as T,
  WorkflowExecution_Phase as W,
} from "../../gen/flyteidl/core/execution_pb.js";
import { type Literal, LiteralMapSchema, LiteralSchema } from "../../gen/flyteidl/core/literals_pb.js";
import {
  ArrayNode_DataMode,
  ArrayNode_ExecutionMode,
  NodeSchema,
} from "../../gen/flyteidl/core/workflow_pb.js";
import { createDatabase } from "../../server/db/database.js";
import {
  bind,
  collectionOf,
  intType,
  launchPlanId,
  literalInt,
  noneType,
  taskId,
  taskTemplate,
  unionOf,
  workflowId,
  workflowTemplate,
} from "../fixtures/flyte-builders.js";
import { eventually } from "../support/eventually.js";
import { startTestServer, type TestServer } from "../support/test-server.js";

let t: TestServer;
let db: Knex;
const P = { project: "flytesnacks", domain: "development" };
const MAP_TASK = "squares.map_square_6b3b1f0c2a9d-arraynode";
const optionalInt = () => unionOf(intType(), noneType());
/** Each element's outputs.pb, prepared per input value (the element copies it, as flytekit writes one). */
const outputsDir = fs.mkdtempSync(path.join(os.tmpdir(), "petrel-array-outputs-"));

const list = (xs: number[]): Literal =>
  create(LiteralSchema, { value: { case: "collection", value: { literals: xs.map((x) => literalInt(x)) } } });
const items = (l: Literal | undefined) => (l?.value.case === "collection" ? l.value.value.literals : []);
const NONE = { case: "scalar", value: { value: { case: "noneType" } } };

/** A workflow `<name>` with one array node n0 over the map task, shaped as flytekit's translator writes it. */
async function registerWorkflow(
  name: string,
  o: { readonly boundInputs: string[]; readonly parallelism?: number; readonly minSuccessRatio?: number },
): Promise<void> {
  const inputs = [bind("a", "", "xs"), bind("ys", "", "ys")];
  const n0 = create(NodeSchema, {
    id: "n0",
    metadata: { name: "map_square" },
    inputs,
    target: {
      case: "arrayNode",
      value: {
        node: {
          id: MAP_TASK,
          metadata: { name: MAP_TASK, retries: {} },
          inputs,
          target: {
            case: "taskNode",
            value: { reference: { case: "referenceId", value: taskId(MAP_TASK) } },
          },
        },
        executionMode: ArrayNode_ExecutionMode.MINIMAL_STATE,
        isOriginalSubNodeInterface: false,
        dataMode: ArrayNode_DataMode.SINGLE_INPUT_FILE,
        boundInputs: o.boundInputs,
        parallelismOption:
          o.parallelism === undefined ? { case: undefined } : { case: "parallelism", value: o.parallelism },
        successCriteria:
          o.minSuccessRatio === undefined
            ? { case: undefined }
            : { case: "minSuccessRatio", value: o.minSuccessRatio },
      },
    },
  });
  const template = workflowTemplate({
    id: workflowId(name),
    inputs: { xs: collectionOf(intType()), ys: collectionOf(intType()) },
    outputs: { o0: collectionOf(optionalInt()) },
    nodes: [n0],
    outputBindings: [bind("o0", "n0", "o")],
  });
  await t.admin.createWorkflow({ id: workflowId(name), spec: { template } });
  await t.admin.createLaunchPlan({ id: launchPlanId(name), spec: { workflowId: workflowId(name) } });
}

beforeAll(async () => {
  t = await startTestServer();
  db = createDatabase(t.database.url, 1);
  await t.admin.registerProject({ project: { id: "flytesnacks", name: "flytesnacks" } });
  for (let a = 0; a < 20; a++) {
    const outputs = create(LiteralMapSchema, { literals: { o: literalInt(a * a) } });
    fs.writeFileSync(path.join(outputsDir, `o-${a}.pb`), toBinary(LiteralMapSchema, outputs));
  }
  // The bound list `ys` arrives whole; a = 7 fails; a = 9 runs for a minute.
  const script = [
    'test "{{.inputs.ys}}" = "[1,2]" || exit 3',
    "test {{.inputs.a}} -ne 7 || exit 1",
    "test {{.inputs.a}} -ne 9 || sleep 60",
    "sleep 0.2",
    `cp ${outputsDir}/o-{{.inputs.a}}.pb {{.outputPrefix}}/outputs.pb`,
  ].join("; ");
  await t.admin.createTask({
    id: taskId(MAP_TASK),
    spec: {
      template: taskTemplate({
        inputs: { a: collectionOf(intType()), ys: collectionOf(intType()) },
        outputs: { o: collectionOf(optionalInt()) },
        command: ["sh", "-c", script],
      }),
    },
  });
  await registerWorkflow("squares.wf", { parallelism: 2, minSuccessRatio: 0.75, boundInputs: ["ys"] });
  await registerWorkflow("squares.unbound", { boundInputs: [] });
  await registerWorkflow("squares.strict", { boundInputs: ["ys"] });
}, 60_000);
afterAll(async () => {
  await db?.destroy();
  await t?.stop();
  fs.rmSync(outputsDir, { recursive: true, force: true });
});

async function run(name: string, workflow: string, xs: number[], ys = [1, 2]) {
  await t.admin.createExecution({
    ...P,
    name,
    spec: { launchPlan: launchPlanId(workflow) },
    inputs: { literals: { xs: list(xs), ys: list(ys) } },
  });
  return eventually(
    () => t.admin.getExecution({ id: { ...P, name } }),
    (e) => [W.SUCCEEDED, W.FAILED].includes(e.closure?.phase ?? 0),
    60_000,
    50,
  );
}

/** The array's task execution row as the database holds it (phase and phase version). */
const arrayAttempt = async (name: string) =>
  (await db("task_executions as te")
    .join("node_executions as ne", "ne.id", "te.node_execution_id")
    .join("executions as e", "e.id", "ne.execution_id")
    .where({ "e.execution_name": name, "ne.node_id": "n0" })
    .first("te.phase", "te.phase_version")) as { phase: string; phase_version: number } | undefined;

describe("array nodes as flytekit serializes map tasks", () => {
  it("register and run, reporting the array as FlyteRemote reads it", async () => {
    const name = "squares";
    const execution = run(name, "squares.wf", [1, 2, 3, 4, 7]);
    // While elements run, each change is a new phase version of the RUNNING attempt.
    const seen = await eventually(
      () => arrayAttempt(name),
      (r) => r?.phase === "RUNNING" && r.phase_version >= 1,
      30_000,
    );
    expect(seen?.phase_version).toBeGreaterThanOrEqual(1);
    const e = await execution;
    expect(e.closure?.phase).toBe(W.SUCCEEDED);
    const out = (await t.admin.getExecutionData({ id: e.id })).fullOutputs?.literals.o0;
    expect(items(out).slice(0, 4)).toEqual([1, 4, 9, 16].map((x) => literalInt(x)));
    expect(items(out)[4]?.value).toMatchObject(NONE);

    const top = await t.admin.listNodeExecutions({ workflowExecutionId: e.id, limit: 100 });
    const n0 = top.nodeExecutions.find((n) => n.id?.nodeId === "n0");
    expect(n0?.metadata).toMatchObject({ isArray: true, isParentNode: false });
    expect(top.nodeExecutions.map((n) => n.id?.nodeId)).not.toContain("n0-0");
    const children = await t.admin.listNodeExecutions({
      workflowExecutionId: e.id,
      uniqueParentId: "n0",
      limit: 100,
    });
    expect(children.nodeExecutions.map((n) => n.metadata?.specNodeId)).toEqual(Array(5).fill(MAP_TASK));

    const attempts = await t.admin.listTaskExecutions({
      nodeExecutionId: { nodeId: "n0", executionId: e.id },
      limit: 10,
    });
    expect(attempts.taskExecutions).toHaveLength(1);
    const [attempt] = attempts.taskExecutions;
    expect(attempt?.id?.retryAttempt).toBe(0);
    expect(attempt?.id?.taskId?.name).toBe(MAP_TASK);
    expect(attempt?.inputUri).toMatch(/\/n0\/data\/inputs\.pb$/);
    expect(attempt?.closure).toMatchObject({
      phase: T.SUCCEEDED,
      taskType: "container_array",
      metadata: { pluginIdentifier: "k8s-array" },
      outputResult: { case: "outputUri", value: expect.stringMatching(/\/n0\/data\/0\/outputs\.pb$/) },
    });
    const resources = attempt?.closure?.metadata?.externalResources ?? [];
    expect(resources.map((r) => [r.externalId, r.index, r.retryAttempt, r.phase])).toEqual([
      ["squares-n0-0-n0-0", 0, 0, T.SUCCEEDED],
      ["squares-n0-0-n1-0", 1, 0, T.SUCCEEDED],
      ["squares-n0-0-n2-0", 2, 0, T.SUCCEEDED],
      ["squares-n0-0-n3-0", 3, 0, T.SUCCEEDED],
      ["squares-n0-0-n4-0", 4, 0, T.FAILED],
    ]);
    const data = await t.admin.getTaskExecutionData({ id: attempt?.id });
    expect(data.fullOutputs?.literals.o).toEqual(out);
    expect(items(data.fullInputs?.literals.a)).toHaveLength(5);
    expect(items(data.fullInputs?.literals.ys)).toEqual([literalInt(1), literalInt(2)]);
  }, 90_000);

  it("fail with InvalidArrayLength when the mapped lists differ in length", async () => {
    const e = await run("unbound", "squares.unbound", [1, 2, 3]);
    expect(e.closure?.phase).toBe(W.FAILED);
    const error = e.closure?.outputResult.case === "error" ? e.closure.outputResult.value : undefined;
    expect(error?.code).toBe("InvalidArrayLength");
    expect(error?.message).toMatch(/input arrays have different lengths: expecting '3' found '2'/);
  }, 90_000);

  it("fail as soon as the threshold is out of reach, aborting the elements still running", async () => {
    const started = Date.now();
    const e = await run("strict", "squares.strict", [7, 9, 1]); // 7 fails at once; 9 would run a minute
    expect(e.closure?.phase).toBe(W.FAILED);
    expect(Date.now() - started).toBeLessThan(30_000);
    const error = e.closure?.outputResult.case === "error" ? e.closure.outputResult.value : undefined;
    expect(error?.message).toMatch(
      /at least 3 were required\n\[0\]: \[1\/1\] currentAttempt done\. Last Error: USER::exit code 1/,
    );
    const children = await t.admin.listNodeExecutions({
      workflowExecutionId: e.id,
      uniqueParentId: "n0",
      limit: 10,
    });
    const phases = new Map(children.nodeExecutions.map((n) => [n.id?.nodeId, n.closure?.phase]));
    expect(phases.get("n0-0")).toBe(N.FAILED);
    expect(phases.get("n0-1")).toBe(N.ABORTED);
    const [attempt] = (
      await t.admin.listTaskExecutions({ nodeExecutionId: { nodeId: "n0", executionId: e.id }, limit: 10 })
    ).taskExecutions;
    expect(attempt?.closure?.phase).toBe(T.FAILED);
    expect(attempt?.closure?.outputResult.case).toBe("error");
    const resources = attempt?.closure?.metadata?.externalResources ?? [];
    expect(resources.map((r) => r.phase).slice(0, 2)).toEqual([T.FAILED, T.ABORTED]);
    // The aborted element's attempt is stopped too (its process killed, not left to sleep).
    const sleeper = await t.admin.listTaskExecutions({
      nodeExecutionId: { nodeId: "n0-1", executionId: e.id },
      limit: 10,
    });
    expect(sleeper.taskExecutions.map((a) => a.closure?.phase)).toEqual([T.ABORTED]);
  }, 90_000);
});
