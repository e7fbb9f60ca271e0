import { create } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WorkflowExecution_Phase as W } from "../../gen/flyteidl/core/execution_pb.js";
import { type Node, NodeSchema } from "../../gen/flyteidl/core/workflow_pb.js";
import {
  bind,
  boolType,
  intType,
  launchPlanId,
  literalBool,
  literalInt,
  literalString,
  stringType,
  taskId,
  taskNode,
  taskTemplate,
  workflowId,
  workflowTemplate,
} from "../fixtures/flyte-builders.js";
import { eventually } from "../support/eventually.js";
import { expectCode } from "../support/expect-error.js";
import { itInProcess } from "../support/external-server.js";
import { startTestServer, type TestServer } from "../support/test-server.js";

let t: TestServer;
const P = { project: "flytesnacks", domain: "development" };

const approve = (id: string, signalId: string, inputs: ReturnType<typeof bind>[], timeoutMs?: number): Node =>
  create(NodeSchema, {
    id,
    inputs,
    ...(timeoutMs === undefined
      ? {}
      : {
          metadata: {
            name: id,
            timeout: { seconds: BigInt(Math.floor(timeoutMs / 1000)), nanos: (timeoutMs % 1000) * 1e6 },
          },
        }),
    target: { case: "gateNode", value: { condition: { case: "approve", value: { signalId } } } },
  });
const signal = (id: string, signalId: string): Node =>
  create(NodeSchema, {
    id,
    target: {
      case: "gateNode",
      value: {
        condition: { case: "signal", value: { signalId, type: stringType(), outputVariableName: "o" } },
      },
    },
  });
const sleep = (id: string, ms: number): Node =>
  create(NodeSchema, {
    id,
    target: {
      case: "gateNode",
      value: {
        condition: {
          case: "sleep",
          value: { duration: { seconds: BigInt(Math.floor(ms / 1000)), nanos: (ms % 1000) * 1e6 } },
        },
      },
    },
  });

async function register(
  name: string,
  nodes: Node[],
  outputs: Record<string, ReturnType<typeof intType>>,
  bindings: ReturnType<typeof bind>[],
) {
  const wf = workflowTemplate({ inputs: { x: intType() }, outputs, nodes, outputBindings: bindings });
  await t.admin.createWorkflow({ id: workflowId(name), spec: { template: wf } });
  await t.admin.createLaunchPlan({ id: launchPlanId(name), spec: { workflowId: workflowId(name) } });
}

async function run(lp: string, name: string) {
  await t.admin.createExecution({
    ...P,
    name,
    spec: { launchPlan: launchPlanId(lp) },
    inputs: { literals: { x: literalInt(4) } },
  });
  return { ...P, name };
}

const done = (id: { project: string; domain: string; name: string }) =>
  eventually(
    () => t.admin.getExecution({ id }),
    (e) => [W.SUCCEEDED, W.FAILED, W.ABORTED, W.TIMED_OUT].includes(e.closure?.phase ?? 0),
  );

const gateReached = (id: { project: string; domain: string; name: string }, signalId: string) =>
  eventually(
    () => t.signal.listSignals({ workflowExecutionId: id, limit: 10 }),
    (l) => l.signals.some((s) => s.id?.signalId === signalId),
  );

beforeAll(async () => {
  t = await startTestServer();
  await t.admin.registerProject({ project: { id: "flytesnacks", name: "flytesnacks" } });
  await t.admin.createTask({
    id: taskId("echo"),
    spec: { template: taskTemplate({ type: "echo", inputs: { a: intType() }, outputs: { a: intType() } }) },
  });
  await register(
    "approval",
    [
      taskNode("before", taskId("echo"), [bind("a", "", "x")]),
      approve("ok", "go", [bind("a", "before", "a")]),
      taskNode("after", taskId("echo"), [bind("a", "ok", "a")]),
    ],
    { o: intType() },
    [bind("o", "after", "a")],
  );
  await register("asking", [signal("ask", "name")], { who: stringType() }, [bind("who", "ask", "o")]);
  await register("napping", [sleep("nap", 1500)], {}, []);
  await register("impatient", [approve("ok", "go", [bind("a", "", "x")], 300)], {}, []);
});
afterAll(async () => {
  await t?.stop();
});

describe("signals and gate nodes", () => {
  it("approve passes the inputs through, fast after SetSignal", async () => {
    const id = await run("approval", "approved");
    await gateReached(id, "go");
    const signals = await t.signal.listSignals({ workflowExecutionId: id, limit: 10 });
    expect(signals.signals[0]?.type).toEqual(boolType());
    expect(signals.signals[0]?.value).toBeUndefined();
    await expectCode(
      t.signal.setSignal({ id: { signalId: "go", executionId: id }, value: literalString("yes") }),
      Code.InvalidArgument,
      /^requested signal value \[.*\] is not castable to existing signal type \[/,
    );
    await expectCode(
      t.signal.setSignal({ id: { signalId: "nope", executionId: id }, value: literalBool(true) }),
      Code.InvalidArgument,
      /^failed to validate that signal \[.*\] exists, err: \[signal does not exist\]$/,
    );
    await expectCode(
      t.signal.setSignal({ id: { signalId: "go", executionId: id } }),
      Code.InvalidArgument,
      "missing value",
    );
    const started = performance.now();
    await t.signal.setSignal({ id: { signalId: "go", executionId: id }, value: literalBool(true) });
    const e = await done(id);
    expect(performance.now() - started).toBeLessThan(3_000);
    expect(e.closure?.phase).toBe(W.SUCCEEDED);
    expect((await t.admin.getExecutionData({ id })).fullOutputs?.literals.o).toEqual(literalInt(4));
    // setting again overwrites silently
    await t.signal.setSignal({ id: { signalId: "go", executionId: id }, value: literalBool(false) });
  });

  it("reject fails the node with ReceivedRejectSignal", async () => {
    const id = await run("approval", "rejected");
    await gateReached(id, "go");
    await t.signal.setSignal({ id: { signalId: "go", executionId: id }, value: literalBool(false) });
    const e = await done(id);
    expect(e.closure?.phase).toBe(W.FAILED);
    expect(e.closure?.outputResult.case === "error" && e.closure.outputResult.value.code).toBe(
      "ReceivedRejectSignal",
    );
  });

  it("a signal gate outputs the value; GetOrCreateSignal returns the existing signal", async () => {
    const id = await run("asking", "asked");
    await gateReached(id, "name");
    const existing = await t.signal.getOrCreateSignal({
      id: { signalId: "name", executionId: id },
      type: intType(),
    });
    expect(existing.type).toEqual(stringType());
    await t.signal.setSignal({ id: { signalId: "name", executionId: id }, value: literalString("ada") });
    expect((await done(id)).closure?.phase).toBe(W.SUCCEEDED);
    expect((await t.admin.getExecutionData({ id })).fullOutputs?.literals.who).toEqual(literalString("ada"));
  });

  itInProcess(
    "a signal set after a restart still wakes the execution, and a sleep gate survives a restart",
    async () => {
      const asked = await run("asking", "asked-restart");
      const napping = await run("napping", "nap-restart");
      await gateReached(asked, "name");
      t = await t.restart();
      await t.signal.setSignal({
        id: { signalId: "name", executionId: asked },
        value: literalString("grace"),
      });
      expect((await done(asked)).closure?.phase).toBe(W.SUCCEEDED);
      const nap = await done(napping);
      expect(nap.closure?.phase).toBe(W.SUCCEEDED);
      const node = await t.admin.getNodeExecution({ id: { nodeId: "nap", executionId: napping } });
      expect(
        Number(node.closure?.duration?.seconds ?? 0n) * 1000 + (node.closure?.duration?.nanos ?? 0) / 1e6,
      ).toBeGreaterThanOrEqual(1400);
    },
  );

  it("a gate's node timeout applies while waiting", async () => {
    const id = await run("impatient", "too-slow");
    const e = await done(id);
    expect(e.closure?.phase).toBe(W.FAILED);
    const node = await t.admin.getNodeExecution({ id: { nodeId: "ok", executionId: id } });
    expect(node.closure?.phase).toBe(8); // TIMED_OUT
  });
});
