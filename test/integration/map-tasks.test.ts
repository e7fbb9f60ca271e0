import { create } from "@bufbuild/protobuf";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  TaskExecution_Phase as T,
  WorkflowExecution_Phase as W,
} from "../../gen/flyteidl/core/execution_pb.js";
import { LiteralSchema } from "../../gen/flyteidl/core/literals_pb.js";
import { NodeSchema } from "../../gen/flyteidl/core/workflow_pb.js";
import {
  bind,
  collectionOf,
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
const N = Number(process.env.PETREL_MAP_TEST_SIZE ?? 1000);

beforeAll(async () => {
  t = await startTestServer({ env: { PETREL_DB_POOL_MAX: "20" } });
  await t.admin.registerProject({ project: { id: "flytesnacks", name: "flytesnacks" } });
  await t.admin.createTask({
    id: taskId("square"),
    spec: {
      template: taskTemplate({
        inputs: { a: intType(), every: intType() },
        outputs: { o: intType() },
        command: [
          "sh",
          "-c",
          "test $(( {{.inputs.a}} % {{.inputs.every}} )) -ne 7 || exit 1; echo $(( {{.inputs.a}} * {{.inputs.a}} )) > {{.outputPrefix}}/o",
        ],
      }),
    },
  });
  const map = create(NodeSchema, {
    id: "map",
    inputs: [bind("a", "", "xs"), bind("every", "", "every")],
    target: {
      case: "arrayNode",
      value: {
        node: taskNode("square", taskId("square")),
        // The task's own scalar interface: the node's is made list-shaped (array_node over a reference task).
        isOriginalSubNodeInterface: true,
        parallelismOption: { case: "parallelism", value: 10 },
        successCriteria: { case: "minSuccessRatio", value: 0.9 },
      },
    },
  });
  const wf = workflowTemplate({
    inputs: { xs: collectionOf(intType()), every: collectionOf(intType()) },
    outputs: { squares: collectionOf(intType()) },
    nodes: [map],
    outputBindings: [bind("squares", "map", "o")],
  });
  await t.admin.createWorkflow({ id: workflowId("mapper"), spec: { template: wf } });
  await t.admin.createLaunchPlan({ id: launchPlanId("mapper"), spec: { workflowId: workflowId("mapper") } });
}, 60_000);
afterAll(async () => {
  await t?.stop();
});

const collection = (xs: number[]) =>
  create(LiteralSchema, { value: { case: "collection", value: { literals: xs.map((x) => literalInt(x)) } } });

async function run(name: string, every: number, size = N) {
  const xs = Array.from({ length: size }, (_, i) => i);
  await t.admin.createExecution({
    ...P,
    name,
    spec: { launchPlan: launchPlanId("mapper") },
    inputs: { literals: { xs: collection(xs), every: collection(xs.map(() => every)) } },
  });
  return eventually(
    () => t.admin.getExecution({ id: { ...P, name } }),
    (e) => [W.SUCCEEDED, W.FAILED].includes(e.closure?.phase ?? 0),
    240_000,
    200,
  );
}

describe("array nodes (map tasks)", () => {
  it(`map over ${N} elements with parallelism 10 and min_success_ratio 0.9, with some failures`, async () => {
    const e = await run("mapped", 50); // every 50th element (a % 50 == 7) fails: 2%
    expect(e.closure?.phase).toBe(W.SUCCEEDED);
    const out = (await t.admin.getExecutionData({ id: e.id })).fullOutputs?.literals.squares?.value;
    const items = out?.case === "collection" ? out.value.literals : [];
    expect(items).toHaveLength(N);
    expect(items[3]).toEqual(literalInt(9));
    expect(items[7]?.value).toMatchObject({ case: "scalar", value: { value: { case: "noneType" } } });
    const children = await t.admin.listNodeExecutions({
      workflowExecutionId: e.id,
      uniqueParentId: "map",
      limit: 5,
    });
    expect(children.nodeExecutions.map((n) => n.metadata?.specNodeId)).toEqual(Array(5).fill("square"));
    // The map node's own task execution lists every element, as Flyte's array plugin does.
    const attempts = await t.admin.listTaskExecutions({
      nodeExecutionId: { nodeId: "map", executionId: e.id },
      limit: 10,
    });
    expect(attempts.taskExecutions).toHaveLength(1);
    const [attempt] = attempts.taskExecutions;
    expect(attempt?.closure?.phase).toBe(T.SUCCEEDED);
    const elements = attempt?.closure?.metadata?.externalResources ?? [];
    expect(elements.map((r) => r.index)).toEqual(Array.from({ length: N }, (_, i) => i));
    expect(elements.filter((r) => r.phase === T.FAILED)).toHaveLength(N / 50);
    // Flyte's external ids: `<execution>-<node>-<element retry>` (at most 50 chars), `-n<index>-<element retry>`.
    expect(elements[7]).toMatchObject({ phase: T.FAILED, externalId: "mapped-map-0-n7-0", retryAttempt: 0 });
    expect(elements[3]?.phase).toBe(T.SUCCEEDED);
  }, 300_000);

  it("fails when too few elements succeed", async () => {
    const e = await run("mostly-broken", 8, 200); // a % 8 == 7 fails: 12.5% > 10%
    expect(e.closure?.phase).toBe(W.FAILED);
    expect(e.closure?.outputResult.case === "error" && e.closure.outputResult.value.message).toMatch(
      /elements succeeded and \d+ failed; at least 180 were required\n\[7\]\[15\]\[23\].*: \[1\/1\] currentAttempt done\. Last Error: USER::exit code 1/,
    );
  }, 300_000);
});
