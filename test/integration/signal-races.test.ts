// SetSignal under contention: pairs of identical SetSignal calls race each other and the engine, which consumes the
// values in the same executions. Every call must succeed (Flyte overwrites a set value without error), never with a
// deadlock surfacing as UNKNOWN, INTERNAL or ABORTED.
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WorkflowExecution_Phase as W } from "../../gen/flyteidl/core/execution_pb.js";
import { type Node, NodeSchema } from "../../gen/flyteidl/core/workflow_pb.js";
import { SignalService } from "../../gen/flyteidl/service/signal_pb.js";
import {
  bind,
  launchPlanId,
  literalString,
  stringType,
  workflowId,
  workflowTemplate,
} from "../fixtures/flyte-builders.js";
import { eventually } from "../support/eventually.js";
import { createGrpcJsClient, type GrpcJsClient } from "../support/grpc-js-client.js";
import { startTestServer, type TestServer } from "../support/test-server.js";

const P = { project: "flytesnacks", domain: "development" };
const EXECUTIONS = 4;
const GATES = 50;
/** Pairs in flight at once. */
const IN_FLIGHT = Number(process.env.IN_FLIGHT ?? 8);

let t: TestServer;
let grpcJs: GrpcJsClient<typeof SignalService>;

const gate = (i: number): Node =>
  create(NodeSchema, {
    id: `g${i}`,
    target: {
      case: "gateNode",
      value: {
        condition: {
          case: "signal",
          value: { signalId: `s${i}`, type: stringType(), outputVariableName: "o" },
        },
      },
    },
  });

/** The status code a failed call carries, whichever client made it. */
function codeOf(err: unknown): string {
  if (err instanceof ConnectError) return `${Code[err.code]}: ${err.rawMessage}`;
  const e = err as { code?: number; details?: string };
  return `${e.code === undefined ? "?" : Code[e.code]}: ${e.details ?? String(err)}`;
}

beforeAll(async () => {
  t = await startTestServer();
  grpcJs = createGrpcJsClient(SignalService, t.grpcAddress);
  await t.admin.registerProject({ project: { id: P.project, name: P.project } });
  const ids = Array.from({ length: GATES }, (_, i) => i);
  const wf = workflowTemplate({
    outputs: Object.fromEntries(ids.map((i) => [`o${i}`, stringType()])),
    nodes: ids.map(gate),
    outputBindings: ids.map((i) => bind(`o${i}`, `g${i}`, "o")),
  });
  await t.admin.createWorkflow({ id: workflowId("gates"), spec: { template: wf } });
  // Every gate waits at once (the default max_parallelism, 25, would start them in two rounds).
  await t.admin.createLaunchPlan({
    id: launchPlanId("gates"),
    spec: { workflowId: workflowId("gates"), maxParallelism: GATES },
  });
});
afterAll(async () => {
  grpcJs?.close();
  await t?.stop();
});

describe("SetSignal races", () => {
  it("200 concurrent pairs of SetSignal calls all succeed while the engine consumes the signals", async () => {
    const executions = Array.from({ length: EXECUTIONS }, (_, e) => ({ ...P, name: `race${e}` }));
    for (const id of executions)
      await t.admin.createExecution({ ...id, spec: { launchPlan: launchPlanId("gates") } });
    for (const id of executions)
      await eventually(
        () => t.signal.listSignals({ workflowExecutionId: id, limit: GATES + 1 }),
        (l) => l.signals.length === GATES,
      );

    const value = (e: number, i: number) => literalString(`v${e}-${i}`);
    // The engine checks a waiting execution's gates in creation order; the signals come last gate first, so a pair
    // lands on a gate the engine is about to look at while it holds the execution.
    const pairs = Array.from({ length: GATES }, (_, k) => GATES - 1 - k).flatMap((i) =>
      executions.map((executionId, e) => ({ id: { signalId: `s${i}`, executionId }, value: value(e, i) })),
    );
    const failures: string[] = [];
    const settle = (call: Promise<unknown>) => call.catch((err: unknown) => failures.push(codeOf(err)));
    let next = 0;
    const sender = async () => {
      for (let req = pairs[next++]; req !== undefined; req = pairs[next++])
        // One call of the pair over Connect, the other over @grpc/grpc-js, as Python's stubs send it.
        await Promise.all([settle(t.signal.setSignal(req)), settle(grpcJs.unary("setSignal", req))]);
    };
    await Promise.all(Array.from({ length: IN_FLIGHT }, sender));
    expect(failures).toEqual([]);

    for (const [e, id] of executions.entries()) {
      const done = await eventually(
        () => t.admin.getExecution({ id }),
        (x) => [W.SUCCEEDED, W.FAILED, W.ABORTED, W.TIMED_OUT].includes(x.closure?.phase ?? 0),
      );
      expect(done.closure?.phase).toBe(W.SUCCEEDED);
      const outputs = (await t.admin.getExecutionData({ id })).fullOutputs?.literals ?? {};
      for (let i = 0; i < GATES; i++) expect(outputs[`o${i}`], `${id.name}/g${i}`).toEqual(value(e, i));
    }
  });
});
