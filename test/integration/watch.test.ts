import { create } from "@bufbuild/protobuf";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NodeExecution_Phase, WorkflowExecution_Phase as W } from "../../gen/flyteidl/core/execution_pb.js";
import { NodeSchema } from "../../gen/flyteidl/core/workflow_pb.js";
import { type WatchEvent, WatchService } from "../../gen/petrel/v1/watch_pb.js";
import {
  bind,
  intType,
  launchPlanId,
  literalBool,
  literalInt,
  taskId,
  taskNode,
  taskTemplate,
  workflowId,
  workflowTemplate,
} from "../fixtures/flyte-builders.js";
import { createGrpcJsClient } from "../support/grpc-js-client.js";
import { startTestServer, type TestServer } from "../support/test-server.js";

let a: TestServer;
let b: TestServer;
const P = { project: "flytesnacks", domain: "development" };

beforeAll(async () => {
  a = await startTestServer();
  // A second replica on the same database with its engine off: what it streams comes over NOTIFY.
  b = await startTestServer({ database: a.database, env: { PETREL_ENGINE: "off" } });
  await a.admin.registerProject({ project: { id: "flytesnacks", name: "flytesnacks" } });
  await a.admin.createTask({
    id: taskId("echo"),
    spec: { template: taskTemplate({ type: "echo", inputs: { a: intType() }, outputs: { a: intType() } }) },
  });
  const wf = workflowTemplate({
    inputs: { x: intType() },
    outputs: { o: intType() },
    nodes: [
      taskNode("n0", taskId("echo"), [bind("a", "", "x")]),
      taskNode("n1", taskId("echo"), [bind("a", "n0", "a")]),
    ],
    outputBindings: [bind("o", "n1", "a")],
  });
  await a.admin.createWorkflow({ id: workflowId("two"), spec: { template: wf } });
  await a.admin.createLaunchPlan({ id: launchPlanId("two"), spec: { workflowId: workflowId("two") } });
  const gate = create(NodeSchema, {
    id: "gate",
    inputs: [bind("a", "", "x")],
    target: { case: "gateNode", value: { condition: { case: "approve", value: { signalId: "go" } } } },
  });
  const gated = workflowTemplate({
    inputs: { x: intType() },
    nodes: [gate, taskNode("after", taskId("echo"), [bind("a", "gate", "a")])],
  });
  await a.admin.createWorkflow({ id: workflowId("gated"), spec: { template: gated } });
  await a.admin.createLaunchPlan({ id: launchPlanId("gated"), spec: { workflowId: workflowId("gated") } });
});
afterAll(async () => {
  await b?.server.stop();
  await a?.stop();
});

const describeEvent = (e: WatchEvent): string => {
  switch (e.kind.case) {
    case "execution":
      return `exec:${W[e.kind.value.closure?.phase ?? 0]}`;
    case "nodeExecution":
      return `node:${e.kind.value.id?.nodeId}`;
    case "taskExecution":
      return `task:${e.kind.value.id?.nodeExecutionId?.nodeId}`;
    default:
      return "?";
  }
};

describe("WatchExecution", () => {
  it("streams the current state, every change, and ends at the terminal phase (from another replica)", async () => {
    await a.admin.createExecution({
      ...P,
      name: "watched",
      spec: { launchPlan: launchPlanId("gated") },
      inputs: { literals: { x: literalInt(3) } },
    });
    const seen: string[] = [];
    for await (const e of b.watch.watchExecution({ id: { ...P, name: "watched" } })) {
      seen.push(describeEvent(e));
      if (e.kind.case === "nodeExecution" && e.kind.value.id?.nodeId === "gate")
        await a.signal.setSignal({
          id: { signalId: "go", executionId: { ...P, name: "watched" } },
          value: literalBool(true),
        });
    }
    expect(seen[0]).toMatch(/^exec:/);
    expect(seen[seen.length - 1]).toBe("exec:SUCCEEDED");
    expect(seen).toEqual(expect.arrayContaining(["node:gate", "node:after", "task:after"]));
    expect(seen.indexOf("node:gate")).toBeLessThan(seen.indexOf("node:after"));
  });

  it("works over grpc-js, and a finished execution sends its state and ends", async () => {
    const client = createGrpcJsClient(WatchService, b.grpcAddress);
    try {
      const seen: string[] = [];
      for await (const e of client.serverStream("watchExecution", { id: { ...P, name: "watched" } }))
        seen.push(describeEvent(e));
      expect(seen[0]).toBe("exec:SUCCEEDED");
      expect(seen.filter((s) => s.startsWith("node:"))).toHaveLength(2);
    } finally {
      client.close();
    }
  });

  it("keeps streaming when the notification connections are lost (every replica listens again and looks)", async () => {
    await a.admin.createExecution({
      ...P,
      name: "gapped",
      spec: { launchPlan: launchPlanId("gated") },
      inputs: { literals: { x: literalInt(1) } },
    });
    const seen: string[] = [];
    for await (const e of b.watch.watchExecution({ id: { ...P, name: "gapped" } })) {
      seen.push(describeEvent(e));
      if (
        e.kind.case === "nodeExecution" &&
        e.kind.value.id?.nodeId === "gate" &&
        e.kind.value.closure?.phase === NodeExecution_Phase.RUNNING
      ) {
        // Both replicas lose their LISTEN connection; the approval is committed while they reconnect. (Only this
        // file's database: other files' servers may share the Postgres server.)
        const killed = (await a.server.db.raw(
          `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
            WHERE application_name = 'petrel-notify' AND datname = current_database()`,
        )) as { rows: unknown[] };
        expect(killed.rows).toHaveLength(2);
        await a.signal.setSignal({
          id: { signalId: "go", executionId: { ...P, name: "gapped" } },
          value: literalBool(true),
        });
      }
    }
    expect(seen).toContain("node:after");
    expect(seen[seen.length - 1]).toBe("exec:SUCCEEDED");
  });

  it("WatchExecutions reports executions of a project/domain as they change", async () => {
    const abort = new AbortController();
    const seen: string[] = [];
    const stream = (async () => {
      try {
        for await (const e of b.watch.watchExecutions(
          { ...P, filters: "eq(phase,SUCCEEDED)" },
          { signal: abort.signal },
        )) {
          if (e.kind.case === "execution")
            seen.push(`${e.kind.value.id?.name}:${W[e.kind.value.closure?.phase ?? 0]}`);
          if (seen.length >= 2) abort.abort();
        }
      } catch {
        // cancelled
      }
    })();
    await new Promise((r) => setTimeout(r, 100));
    for (const name of ["w1", "w2"]) {
      await a.admin.createExecution({
        ...P,
        name,
        spec: { launchPlan: launchPlanId("two") },
        inputs: { literals: { x: literalInt(1) } },
      });
    }
    await stream;
    expect(seen.sort()).toEqual(["w1:SUCCEEDED", "w2:SUCCEEDED"]);
  });
});
