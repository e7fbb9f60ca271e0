import { mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { create } from "@bufbuild/protobuf";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FriendlyRemote, TypeMismatchError } from "../../../client/index.js";
import { ExecutionMetadata_ExecutionMode } from "../../../gen/flyteidl/admin/execution_pb.js";
import {
  NodeExecution_Phase,
  WorkflowExecution_Phase as W,
} from "../../../gen/flyteidl/core/execution_pb.js";
import { NodeSchema } from "../../../gen/flyteidl/core/workflow_pb.js";
import {
  bind,
  intType,
  launchPlanId,
  stringType,
  taskId,
  taskNode,
  taskTemplate,
  workflowId,
  workflowTemplate,
} from "../../fixtures/flyte-builders.js";
import { eventually } from "../../support/eventually.js";
import { startTestServer, type TestServer } from "../../support/test-server.js";

let t: TestServer;
let remote: FriendlyRemote;

beforeAll(async () => {
  t = await startTestServer();
  remote = FriendlyRemote.forEndpoint(t.grpcAddress, {
    insecure: true,
    project: "demo",
    domain: "development",
  });
  await remote.client.registerProject({ project: { id: "demo", name: "demo" } });
  const script = (name: string, cmd: string, outputs: Record<string, ReturnType<typeof intType>>) =>
    remote.client.createTask({
      id: taskId(name, "v1", "demo"),
      spec: { template: taskTemplate({ inputs: { a: intType() }, outputs, command: ["sh", "-c", cmd] }) },
    });
  await script("double", "echo $(( {{.inputs.a}} * 2 )) > {{.outputPrefix}}/o", { o: intType() });
  await script("inc", "echo $(( {{.inputs.a}} + 1 )) > {{.outputPrefix}}/o", { o: intType() });
  await script("describe", "printf 'value %s' {{.inputs.a}} > {{.outputPrefix}}/s", { s: stringType() });
  const gate = create(NodeSchema, {
    id: "review",
    inputs: [bind("a", "n0", "o")],
    target: { case: "gateNode", value: { condition: { case: "approve", value: { signalId: "ok" } } } },
  });
  const wf = workflowTemplate({
    inputs: { x: intType() },
    outputs: { total: intType(), text: stringType() },
    nodes: [
      taskNode("n0", taskId("double", "v1", "demo"), [bind("a", "", "x")]),
      gate,
      taskNode("n1", taskId("inc", "v1", "demo"), [bind("a", "review", "a")]),
      taskNode("n2", taskId("describe", "v1", "demo"), [bind("a", "n1", "o")]),
    ],
    outputBindings: [bind("total", "n1", "o"), bind("text", "n2", "s")],
  });
  for (const v of ["v1", "v2"]) {
    await remote.client.createWorkflow({ id: workflowId("pipeline", v, "demo"), spec: { template: wf } });
    await remote.client.createLaunchPlan({
      id: launchPlanId("pipeline", v, "demo"),
      spec: { workflowId: workflowId("pipeline", v, "demo") },
    });
  }
});
afterAll(async () => {
  await t?.stop();
});

describe("FriendlyRemote", () => {
  it("runs a 3-task workflow with a gate: execute by name, approve, wait, read typed outputs", async () => {
    const exe = await remote.execute({ launchPlan: "pipeline" }, { x: 20 }, { namePrefix: "demo" });
    expect(exe.name).toMatch(/^demo-[0-9a-f]{19}$/);
    expect(exe.execution.spec?.launchPlan?.version).toBe("v2");
    await eventually(
      () => remote.listSignals(exe),
      (s) => s.length === 1,
    );
    await remote.approve("ok", exe);
    await exe.wait({ timeoutMs: 20_000 });
    expect(exe.phase).toBe(W.SUCCEEDED);
    expect(await exe.outputs()).toEqual({ total: 41, text: "value 41" });
    expect(await exe.inputs()).toEqual({ x: 20 });
    const recent = await remote.recentExecutions({ limit: 5 });
    expect(recent.map((r) => r.name)).toContain(exe.name);
    expect((await remote.fetchExecution(exe.name)).phase).toBe(W.SUCCEEDED);
    expect((await remote.fetchExecution(exe.execution.id ?? exe.name)).name).toBe(exe.name);
    await expect(remote.fetchActiveLaunchPlan("pipeline")).rejects.toThrow("No active launch plan");
    await remote.activate(await remote.fetchLaunchPlan("pipeline", "v1"));
    expect((await remote.fetchActiveLaunchPlan("pipeline")).id?.version).toBe("v1");
  });

  it("rejects bad inputs before calling the server, and unknown names clearly", async () => {
    await expect(remote.execute({ launchPlan: "pipeline" }, { x: "twenty" })).rejects.toBeInstanceOf(
      TypeMismatchError,
    );
    await expect(remote.execute({ workflow: "nope" }, {})).rejects.toThrow(
      "Named entity demo/development/nope not found",
    );
    const task = await remote.execute({ task: "double", version: "v1" }, { a: 4 }, { wait: true });
    expect(await task.outputs()).toEqual({ o: 8 });
  });

  it("times out waiting with an error naming the execution, and a rejected gate fails the execution", async () => {
    const exe = await remote.execute({ launchPlan: "pipeline", version: "v1" }, { x: 1 });
    await expect(exe.wait({ timeoutMs: 300 })).rejects.toThrow(
      `execution ${exe.name} did not finish within 300 ms`,
    );
    await eventually(
      () => remote.listSignals(exe),
      (s) => s.length === 1,
    );
    await remote.reject("ok", exe);
    await exe.wait({ timeoutMs: 10_000 });
    expect(exe.phase).toBe(W.FAILED);
    expect(exe.error).toContain("rejected");
  });

  it("reports progress while it runs and syncs node and task executions", async () => {
    const events: string[] = [];
    const exe = await remote.execute(
      { task: "double", version: "v1" },
      { a: 2 },
      {
        onProgress: (e) => events.push(e.kind.case ?? ""),
      },
    );
    expect(exe.phase).toBe(W.SUCCEEDED);
    expect(events[0]).toBe("execution");
    expect(events).toContain("nodeExecution");
    expect(events).toContain("taskExecution");
    await exe.sync({ nodes: true });
    expect(exe.nodes.map((n) => [n.node.id?.nodeId, n.taskExecutions.length])).toEqual([["double", 1]]);
  });

  it("registers tasks and workflows (with their default launch plan) idempotently", async () => {
    const task = {
      id: taskId("negate", "r1", "demo"),
      spec: {
        template: taskTemplate({
          inputs: { a: intType() },
          outputs: { o: intType() },
          command: ["sh", "-c", "echo $(( -{{.inputs.a}} )) > {{.outputPrefix}}/o"],
        }),
      },
    };
    await remote.register({ task });
    await remote.register({ task });
    const wf = workflowTemplate({
      inputs: { x: intType() },
      outputs: { o: intType() },
      nodes: [taskNode("n0", taskId("negate", "r1", "demo"), [bind("a", "", "x")])],
      outputBindings: [bind("o", "n0", "o")],
    });
    await remote.register({ workflow: { id: workflowId("negator", "r1", "demo"), spec: { template: wf } } });
    await remote.register({ workflow: { id: workflowId("negator", "r1", "demo"), spec: { template: wf } } });
    const exe = await remote.execute({ workflow: "negator" }, { x: 5 }, { wait: true });
    expect(await exe.outputs()).toEqual({ o: -5 });
  });

  it("terminates, relaunches and recovers executions, and connects from a saved profile", async () => {
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), "petrel-profile-")), "config.yaml");
    writeFileSync(
      file,
      `current: local\nprofiles:\n  local:\n    endpoint: ${t.grpcAddress}\n    project: demo\n    domain: development\n    insecure: true\n`,
    );
    const viaProfile = FriendlyRemote.fromConfig(undefined, file);
    expect(viaProfile.project).toBe("demo");
    const running = await viaProfile.execute({ launchPlan: "pipeline" }, { x: 3 });
    await running.waitForSignal("ok");
    const phases: number[] = [];
    const watching = (async () => {
      for await (const e of running.watch())
        if (e.kind.case === "execution") phases.push(e.kind.value.closure?.phase ?? 0);
    })();
    await viaProfile.terminate(running, "changed my mind");
    await running.wait({ timeoutMs: 20_000 });
    await watching;
    expect(running.phase).toBe(W.ABORTED);
    expect(phases.at(-1)).toBe(W.ABORTED);

    const again = await remote.relaunch(running);
    expect(again.execution.spec?.metadata?.mode).toBe(ExecutionMetadata_ExecutionMode.RELAUNCH);
    expect(await again.inputs()).toEqual({ x: 3 });
    await again.waitForSignal("ok");
    await remote.reject("ok", again);
    await again.wait({ timeoutMs: 20_000 });
    expect(again.phase).toBe(W.FAILED);
    const recovered = await remote.recover(again);
    expect(recovered.execution.spec?.metadata?.mode).toBe(ExecutionMetadata_ExecutionMode.RECOVERED);
    await recovered.waitForSignal("ok");
    await remote.approve("ok", recovered);
    await recovered.wait({ timeoutMs: 20_000 });
    expect(await recovered.outputs()).toEqual({ total: 7, text: "value 7" });
    await recovered.sync({ nodes: true });
    const first = recovered.nodes.find((n) => n.node.id?.nodeId === "n0");
    expect(first?.node.closure?.phase).toBe(NodeExecution_Phase.RECOVERED);

    const page = (name: string) =>
      `http://${t.grpcAddress}/console/projects/demo/domains/development/executions/${name}`;
    expect([recovered.consoleUrl, again.consoleUrl]).toEqual([page(recovered.name), page(again.name)]);
    expect(remote.consoleUrl(recovered)).toBe(page(recovered.name));
    expect(remote.consoleUrl("x y")).toBe(page("x%20y"));
    expect(remote.consoleUrl({ project: "p", domain: "d", name: "n" })).toMatch(
      /\/projects\/p\/domains\/d\/executions\/n$/,
    );
    const elsewhere = FriendlyRemote.forEndpoint(t.grpcAddress, {
      insecure: true,
      project: "demo",
      domain: "development",
      consoleUrl: "https://petrel.example/",
    });
    expect((await elsewhere.fetchExecution(again.name)).consoleUrl).toBe(
      `https://petrel.example/console/projects/demo/domains/development/executions/${again.name}`,
    );
    // The link leads to the console's page on the gRPC port (HTTP/1.1 there is the HTTP port's).
    const opened = await fetch(page(recovered.name));
    expect(opened.headers.get("content-type")).toBe("text/html; charset=utf-8");
    await opened.body?.cancel();

    const lp = await remote.fetchLaunchPlan("pipeline", "v2");
    await remote.activate(lp);
    await remote.deactivate(lp);
    await expect(remote.fetchActiveLaunchPlan("pipeline")).rejects.toThrow("No active launch plan");
  });
});
