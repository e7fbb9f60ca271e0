// Node timeouts on every kind of node: past the timeout the node is TIMED_OUT and everything running under it —
// processes, sub-workflow children, array elements, child executions — is stopped.
import { existsSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { containerTask, FriendlyRemote, launchPlan, map, t, workflow } from "../../client/index.js";
import {
  NodeExecution_Phase as N,
  WorkflowExecution_Phase as W,
} from "../../gen/flyteidl/core/execution_pb.js";
import { eventually } from "../support/eventually.js";
import { startTestServer, type TestServer } from "../support/test-server.js";

let server: TestServer;
let remote: FriendlyRemote;

const nap = containerTask({
  name: "nap",
  image: "alpine:3",
  command: ["sh", "-c", "sleep 30; echo 1 > /var/outputs/o"],
  inputs: { x: t.int },
  outputs: { o: t.int },
});
const marker = path.join(os.tmpdir(), `petrel-timeout-${process.pid}`);
const napThenMark = containerTask({
  name: "nap-then-mark",
  image: "alpine:3",
  command: ["sh", "-c", `sleep 3; touch ${marker}; echo 1 > /var/outputs/o`],
  inputs: { x: t.int },
  outputs: { o: t.int },
});
const inner = workflow({ name: "inner", inputs: { x: t.int }, outputs: { o: t.int } }, ({ x }) => ({
  o: nap({ x }).o,
}));
const innerPlan = launchPlan({ workflow: inner, name: "inner-plan" });

beforeAll(async () => {
  server = await startTestServer();
  remote = FriendlyRemote.forEndpoint(server.grpcAddress, {
    insecure: true,
    project: "timeouts",
    domain: "development",
  });
  await remote.client.registerProject({ project: { id: "timeouts", name: "timeouts" } });
});
afterAll(async () => {
  await remote?.close();
  await server?.stop();
});

const phaseOf = async (exe: Awaited<ReturnType<FriendlyRemote["execute"]>>, nodeId: string, parent = "") => {
  for await (const n of remote.client.listNodeExecutionsAll({
    workflowExecutionId: exe.execution.id,
    uniqueParentId: parent,
  }))
    if (n.id?.nodeId === nodeId) return n;
  return undefined;
};

describe("node timeouts", () => {
  it("time out a sub-workflow node and stop the process running inside it", async () => {
    const marking = workflow({ name: "marking", inputs: { x: t.int }, outputs: { o: t.int } }, ({ x }) => ({
      o: napThenMark({ x }).o,
    }));
    const outer = workflow({ name: "outer-sub", inputs: {}, outputs: { o: t.int } }, () => ({
      o: marking({ x: 1 }, { id: "sub", timeout: "1s" }).o,
    }));
    const started = Date.now();
    const exe = await remote.execute(outer, {}, { wait: true });
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(exe.phase).toBe(W.FAILED);
    expect(exe.error).toContain("timed out");
    expect((await phaseOf(exe, "sub"))?.closure?.phase).toBe(N.TIMED_OUT);
    const child = await phaseOf(exe, "sub-0-n0", "sub");
    expect(child?.closure?.phase).toBe(N.ABORTED);
    await new Promise((r) => setTimeout(r, 3_500)); // the process would have marked by now
    expect(existsSync(marker)).toBe(false);
  }, 60_000);

  it("time out a map node and abort its running elements", async () => {
    const outer = workflow({ name: "outer-map", inputs: {}, outputs: { os: t.list(t.int) } }, () => ({
      os: map(nap)({ x: [1, 2, 3] }, { id: "fan", timeout: "1s" }).o,
    }));
    const exe = await remote.execute(outer, {}, { wait: true });
    expect(exe.phase).toBe(W.FAILED);
    expect((await phaseOf(exe, "fan"))?.closure?.phase).toBe(N.TIMED_OUT);
    const elements = [];
    for await (const n of remote.client.listNodeExecutionsAll({
      workflowExecutionId: exe.execution.id,
      uniqueParentId: "fan",
    }))
      elements.push(n.closure?.phase);
    expect(elements).toEqual([N.ABORTED, N.ABORTED, N.ABORTED]);
  }, 60_000);

  it("time out a launch-plan node and terminate the child execution", async () => {
    const outer = workflow({ name: "outer-lp", inputs: {}, outputs: { o: t.int } }, () => ({
      o: innerPlan({ x: 1 }, { id: "call", timeout: "1s" }).o,
    }));
    const exe = await remote.execute(outer, {}, { wait: true });
    expect(exe.phase).toBe(W.FAILED);
    const call = await phaseOf(exe, "call");
    expect(call?.closure?.phase).toBe(N.TIMED_OUT);
    const childId =
      call?.closure?.targetMetadata.case === "workflowNodeMetadata"
        ? call.closure.targetMetadata.value.executionId
        : undefined;
    const child = await eventually(
      () => remote.client.getExecution({ id: childId }),
      (c) => c.closure?.phase === W.ABORTED,
      20_000,
    );
    expect(child.closure?.phase).toBe(W.ABORTED);
  }, 60_000);
});
