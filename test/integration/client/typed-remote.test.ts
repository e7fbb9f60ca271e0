// FriendlyRemote as a typed, talkative client against a real server: typed execute of DSL entities, the handle's id
// and printed phase, progress callbacks, clear signal errors, finding workflows by name, launching a workflow
// version's launch plan by name, and task log links.
import { inspect } from "node:util";
import { create } from "@bufbuild/protobuf";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  approve,
  containerTask,
  EntityNotFoundError,
  FriendlyRemote,
  launchPlan,
  NameNotFoundError,
  type NodeProgress,
  type RunProgress,
  SignalNotFoundError,
  type TaskProgress,
  t,
  task,
  Worker,
  workflow,
} from "../../../client/index.js";

import { WorkflowExecution_Phase as W } from "../../../gen/flyteidl/core/execution_pb.js";
import { ResourceType } from "../../../gen/flyteidl/core/identifier_pb.js";
import { LiteralTypeSchema, SimpleType } from "../../../gen/flyteidl/core/types_pb.js";
import { startTestServer, type TestServer } from "../../support/test-server.js";

let server: TestServer;
let remote: FriendlyRemote;

const add = task(
  { name: "typed.add", inputs: { a: t.int, b: t.int }, outputs: { sum: t.int } },
  ({ a, b }) => ({ sum: a + b }),
);
const echo = containerTask({
  name: "typed.echo",
  image: "alpine:3",
  command: ["sh", "-c", "echo hello from $(cat /var/inputs/word); cp /var/inputs/word /var/outputs/said"],
  inputs: { word: t.string },
  outputs: { said: t.string },
});
const inner = workflow({ name: "typed.inner", inputs: { x: t.int }, outputs: { y: t.int } }, ({ x }) => ({
  y: add({ a: x, b: x }).sum,
}));
const outer = workflow(
  { name: "typed.outer", inputs: { x: t.int, word: t.string }, outputs: { y: t.int, said: t.string } },
  ({ x, word }) => {
    const doubled = inner({ x }, { id: "sub" });
    const said = echo({ word }, { id: "say" });
    return { y: add({ a: doubled.y, b: 1 }, { id: "plus" }).sum, said: said.said };
  },
);
let release: () => void = () => undefined;
const released = new Promise<void>((r) => {
  release = r;
});
const hold = task(
  { name: "typed.hold", inputs: { a: t.int, b: t.int }, outputs: { sum: t.int } },
  async ({ a, b }) => {
    await released;
    return { sum: a + b };
  },
);
const gated = workflow({ name: "typed.gated", inputs: { x: t.int }, outputs: { y: t.int } }, ({ x }) => {
  const first = hold({ a: x, b: 1 }, { id: "first" });
  const ok = approve("go", first.sum, { timeout: "1h" });
  return { y: add({ a: ok, b: 1 }, { id: "second" }).sum };
});
const nightly = launchPlan({ workflow: inner, name: "typed.inner-nightly", defaultInputs: { x: 21 } });

beforeAll(async () => {
  server = await startTestServer();
  remote = FriendlyRemote.forEndpoint(server.grpcAddress, {
    insecure: true,
    project: "typed",
    domain: "development",
  });
  await remote.client.registerProject({ project: { id: "typed", name: "typed" } });
});
afterAll(async () => {
  await remote?.close();
  await server?.stop();
});

describe("FriendlyRemote, typed at the call", () => {
  it("runs a DSL workflow with checked inputs and typed outputs; the handle prints its id and phase", async () => {
    const exe = await remote.execute(add, { a: 2, b: 3 });
    const out = await (await exe.wait({ timeoutMs: 30_000 })).outputs();
    const sum: number = out.sum;
    expect(sum).toBe(5);
    expect(exe.id).toMatchObject({ project: "typed", domain: "development", name: exe.name });
    expect(exe.phaseName).toBe("SUCCEEDED");
    expect(String(exe)).toBe(`ExecutionHandle(typed/development/${exe.name} SUCCEEDED)`);
    expect(inspect(exe)).toBe(`ExecutionHandle(typed/development/${exe.name} SUCCEEDED)`);
    expect(inspect({ exe })).toContain(`ExecutionHandle(typed/development/${exe.name} SUCCEEDED)`);
    // A launch plan's defaults fill what is left out.
    const lp = await remote.execute(nightly, {}, { wait: true });
    expect((await lp.outputs()).y).toBe(42);
  });

  it("calls onRun, onNode and onTask with each phase change, in order", async () => {
    const runs: RunProgress[] = [];
    const nodes: NodeProgress[] = [];
    const tasks: TaskProgress[] = [];
    const exe = await remote.execute(
      outer,
      { x: 4, word: "petrel" },
      {
        onRun: (p) => runs.push(p),
        onNode: (p) => nodes.push(p),
        onTask: (p) => tasks.push(p),
        timeoutMs: 60_000,
      },
    );
    expect(exe.phase).toBe(W.SUCCEEDED);
    expect(await exe.outputs()).toEqual({ y: 9, said: "petrel" });
    // Each callback reports the phases it saw, once each, in order, ending with SUCCEEDED. The stream sends states as
    // read after each commit, so a step that passes quickly (QUEUED, or RUNNING of a fast task) may not be seen.
    const rank = ["QUEUED", "RUNNING", "SUCCEEDED"];
    const inOrder = {
      asymmetricMatch: (seen: string[]) =>
        seen.at(-1) === "SUCCEEDED" &&
        seen.every((p, i) => i === 0 || rank.indexOf(p) > rank.indexOf(seen[i - 1] ?? "")),
      toString: () => "phases once each, in order, ending with SUCCEEDED",
    };
    expect(runs.map((r) => r.phaseName)).toEqual(inOrder);
    expect(runs.at(-1)?.execution.closure?.phase).toBe(W.SUCCEEDED);
    const phasesOf = (id: string) => nodes.filter((n) => n.nodeId === id).map((n) => n.phaseName);
    for (const id of ["sub", "say", "plus", "sub-0-n0"]) expect(phasesOf(id), id).toEqual(inOrder);
    const attemptsOf = (id: string) => tasks.filter((x) => x.nodeId === id).map((x) => x.phaseName);
    for (const id of ["say", "plus", "sub-0-n0"]) expect(attemptsOf(id), id).toEqual(inOrder);
    // The sub-workflow's node runs under "sub", and says so.
    const child = nodes.find((n) => n.parent === "sub");
    expect(child).toMatchObject({ nodeId: "sub-0-n0", specNodeId: "n0" });
    expect(
      nodes.filter((n) => ["sub", "say", "plus"].includes(n.nodeId)).every((n) => n.parent === undefined),
    ).toBe(true);
    // "plus" only starts once "sub" has succeeded.
    const at = (id: string, phase: string) =>
      nodes.findIndex((n) => n.nodeId === id && n.phaseName === phase);
    const plusStarted = nodes.findIndex((n) => n.nodeId === "plus" && n.phaseName !== "QUEUED");
    expect(at("sub", "SUCCEEDED")).toBeGreaterThanOrEqual(0);
    expect(at("sub", "SUCCEEDED")).toBeLessThan(plusStarted);

    const say = tasks.filter((x) => x.nodeId === "say");
    expect(say.map((x) => x.phaseName).at(-1)).toBe("SUCCEEDED");
    expect(say.every((x) => x.taskName === "typed.echo" && x.attempt === 0)).toBe(true);
    expect(tasks.filter((x) => x.taskName === "typed.add" && x.phaseName === "SUCCEEDED")).toHaveLength(2);

    // The container task's log links; none for the TypeScript tasks.
    const logs = await exe.logs("say");
    expect(logs.map((l) => l.name).sort()).toEqual(["stderr", "stdout"]);
    expect(logs.every((l) => l.nodeId === "say" && l.taskName === "typed.echo" && l.uri !== "")).toBe(true);
    const stdout = logs.find((l) => l.name === "stdout")?.uri ?? "";
    expect(await (await fetch(stdout)).text()).toContain("hello from petrel");
    expect(await exe.logs()).toEqual(logs);
    expect(await exe.logs("plus")).toEqual([]);
  });

  it("says which signal is missing, before the gate is reached and by a wrong id; waits for the gate", async () => {
    const exe = await remote.execute(gated, { x: 1 });
    // "hold" is still running (this process serves it): the gate has created no signal yet.
    const early = await remote.approve("go", exe).catch((e: unknown) => e);
    expect(early).toBeInstanceOf(SignalNotFoundError);
    expect(early).toBeInstanceOf(EntityNotFoundError);
    expect((early as Error).message).toBe(
      `no signal "go" in execution ${exe.name} (it has no signals yet: a gate creates its signal when the execution reaches it)`,
    );
    release();
    const signal = await remote.waitForSignal(exe, "go", { timeoutMs: 20_000 });
    expect(signal.id?.signalId).toBe("go");
    await expect(remote.approve("og", exe)).rejects.toThrow(
      `no signal "og" in execution ${exe.name} (its signals: go)`,
    );
    await expect(remote.reject("og", exe)).rejects.toThrow(SignalNotFoundError);
    // With an explicit type the client does not look first: the server's answer is translated.
    const boolean = create(LiteralTypeSchema, { type: { case: "simple", value: SimpleType.BOOLEAN } });
    await expect(remote.setInput("og", exe, true, boolean)).rejects.toThrow(
      `no signal "og" in execution ${exe.name} (its signals: go)`,
    );
    await remote.approve("go", exe);
    await exe.wait({ timeoutMs: 30_000 });
    expect((await exe.outputs()).y).toBe(3);
    await expect(remote.waitForSignal(exe.name, "other", { timeoutMs: 5_000 })).rejects.toThrow(
      `execution ${exe.name} finished without waiting for signal other`,
    );
  });
});

describe("FriendlyRemote, by name", () => {
  it("fails clearly on an unknown workflow name and lists candidates by prefix", async () => {
    await remote.registerAll([outer, gated, nightly], { version: "v1" });
    await remote.registerAll([outer], { version: "v2" });
    const err = await remote.fetchWorkflow("typed.outr").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NameNotFoundError);
    expect((err as NameNotFoundError).message).toContain(
      'no workflow named "typed.outr" in project typed, domain development; did you mean "typed.outer"',
    );
    expect((err as NameNotFoundError).suggestions).toContain("typed.outer");
    const found = await remote.findWorkflows("typed.");
    expect(found.map((f) => f.name)).toEqual(["typed.gated", "typed.inner", "typed.outer"]);
    expect(found.find((f) => f.name === "typed.outer")?.latestVersion).toBe("v2");
    expect(await remote.findWorkflows("typed.outer")).toHaveLength(1);
    expect(await remote.findWorkflows("nothing")).toEqual([]);
    expect((await remote.fetchWorkflow("typed.outer")).id?.version).toBe("v2");
  });

  it("launches a workflow version's launch plan by name, and says when there is none", async () => {
    const where = { project: "typed", domain: "development" };
    await remote.registerAll([nightly], { version: "v1" });
    await remote.register({
      launchPlan: {
        id: { resourceType: ResourceType.LAUNCH_PLAN, ...where, name: "typed.other", version: "v9" },
        spec: {
          workflowId: { resourceType: ResourceType.WORKFLOW, ...where, name: "typed.outer", version: "v2" },
        },
      },
    });
    // Launched by name, nothing serves its TypeScript task but this worker.
    const worker = new Worker({
      client: remote.client,
      tasks: { "typed.add": ({ a, b }) => ({ sum: Number(a) + Number(b) }) },
      pollWaitMs: 500,
    }).start();
    const exe = await remote
      .execute(
        { workflow: "typed.inner", version: "v1", launchPlan: "typed.inner-nightly" },
        {},
        { wait: true, timeoutMs: 30_000 },
      )
      .finally(() => worker.stop());
    expect(exe.execution.spec?.launchPlan?.name).toBe("typed.inner-nightly");
    expect(await exe.outputs()).toEqual({ y: 42 });
    await expect(
      remote.execute({ workflow: "typed.inner", version: "v1", launchPlan: "typed.inner-nighty" }, {}),
    ).rejects.toThrow(
      'no launch plan named "typed.inner-nighty" in project typed, domain development; did you mean',
    );
    await expect(
      remote.execute({ workflow: "typed.inner", version: "v1", launchPlan: "typed.other" }, {}),
    ).rejects.toThrow(
      'launch plan "typed.other" does not launch workflow "typed.inner" version "v1" in project typed, domain development: its versions launch typed.outer@v2',
    );
    await expect(
      remote.execute({ workflow: "typed.inner", version: "v7", launchPlan: "typed.inner-nightly" }, {}),
    ).rejects.toThrow('workflow "typed.inner" has no version "v7"');
    await expect(
      remote.execute({ workflow: "typed.innr", launchPlan: "typed.inner-nightly" }, {}),
    ).rejects.toBeInstanceOf(NameNotFoundError);
  });
});
