// The TypeScript DSL end to end: define tasks and workflows in this file, register them through FriendlyRemote
// and run them on a real server, with this process serving the function tasks.
import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  approve,
  conditional,
  containerTask,
  DslError,
  ExecutionHandle,
  FriendlyRemote,
  launchPlan,
  map,
  sleep,
  TypeMismatchError,
  t,
  task,
  UnimplementedError,
  waitForInput,
  workflow,
} from "../../../client/index.js";
import {
  NodeExecution_Phase as N,
  WorkflowExecution_Phase as W,
} from "../../../gen/flyteidl/core/execution_pb.js";
import { eventually } from "../../support/eventually.js";
import { startTestServer, type TestServer } from "../../support/test-server.js";

let server: TestServer;
let remote: FriendlyRemote;

const add = task(
  { name: "dsl.add", inputs: { a: t.int, b: t.int }, outputs: { sum: t.int } },
  async ({ a, b }) => ({ sum: a + b }),
);
const square = task({ name: "dsl.square", inputs: { x: t.int }, outputs: { y: t.int } }, ({ x }) => ({
  y: x * x,
}));
const label = task(
  { name: "dsl.label", inputs: { n: t.int, tags: t.list(t.string) }, outputs: { text: t.string } },
  ({ n, tags }) => ({ text: `${n}:${tags.join(",")}` }),
);
const shout = containerTask({
  name: "dsl.shout",
  image: "alpine:3",
  command: ["sh", "-c", "tr a-z A-Z < /var/inputs/word > /var/outputs/loud"],
  inputs: { word: t.string },
  outputs: { loud: t.string },
});

/** Three tasks and a human approval between them. */
const reviewed = workflow(
  { name: "dsl.reviewed", inputs: { x: t.int }, outputs: { total: t.int, text: t.string } },
  ({ x }) => {
    const s = add({ a: x, b: 10 });
    const ok = approve("publish", s.sum, { timeout: "1h" });
    const sq = square({ x: ok });
    const l = label({ n: sq.y, tags: ["a", "b"] });
    return { total: sq.y, text: l.text };
  },
);

beforeAll(async () => {
  server = await startTestServer();
  remote = FriendlyRemote.forEndpoint(server.grpcAddress, {
    insecure: true,
    project: "dsl",
    domain: "development",
  });
  await remote.client.registerProject({ project: { id: "dsl", name: "dsl" } });
});
afterAll(async () => {
  await remote?.close();
  await server?.stop();
});

describe("the TypeScript DSL", () => {
  it("defines, runs and approves a 3-task workflow with a gate, reading typed outputs", async () => {
    const exe = await remote.execute(reviewed, { x: 5 });
    const signal = await exe.waitForSignal("publish", { timeoutMs: 20_000 });
    expect(signal.type?.type.case).toBe("simple");
    await remote.approve("publish", exe);
    await exe.wait({ timeoutMs: 30_000 });
    expect(exe.phase).toBe(W.SUCCEEDED);
    const out: { total: number; text: string } = (await exe.outputs()) as { total: number; text: string };
    expect(out).toEqual({ total: 225, text: "225:a,b" });
  });

  it("waits by polling when the server has no watch stream", async () => {
    const one = workflow({ name: "dsl.one", inputs: { x: t.int }, outputs: { o: t.int } }, ({ x }) => ({
      o: square({ x }).y,
    }));
    const exe = await remote.execute(one, { x: 3 });
    const calls: string[] = [];
    const client = new Proxy(remote.client, {
      get(target, prop, receiver) {
        if (prop === "watchExecution")
          return async function* () {
            calls.push("watch");
            yield* [];
            throw new UnimplementedError(Code.Unimplemented, "no watch here", undefined);
          };
        if (prop === "getExecution") calls.push("get");
        return Reflect.get(target, prop, receiver);
      },
    });
    const polled = new ExecutionHandle({ client }, exe.execution);
    await polled.wait({ timeoutMs: 20_000, pollIntervalMs: 20 });
    expect(polled.phase).toBe(W.SUCCEEDED);
    expect(calls[0]).toBe("watch");
    expect(calls.filter((c) => c === "get").length).toBeGreaterThan(0);
    expect(await polled.outputs()).toEqual({ o: 9 });
  });

  it("registers everything a workflow uses under one content-derived version, idempotently", async () => {
    const first = await remote.register(reviewed);
    const again = await remote.register(reviewed);
    expect(again.version).toBe(first.version);
    expect(first.tasks.map((x) => x.id?.name).sort()).toEqual(["dsl.add", "dsl.label", "dsl.square"]);
    const wf = await remote.fetchWorkflow("dsl.reviewed", first.version);
    expect(wf.id?.version).toBe(first.version);
    const lp = await remote.fetchLaunchPlan("dsl.reviewed", first.version);
    expect(Object.keys(lp.closure?.expectedInputs?.parameters ?? {})).toEqual(["x"]);
    const pinned = await remote.register(square, { version: "v-pinned" });
    expect(pinned.version).toBe("v-pinned");
    expect((await remote.fetchTask("dsl.square")).id?.version).toBe("v-pinned");
  });

  it("branches on a condition, maps a task over a list and runs a container task", async () => {
    const shape = workflow(
      {
        name: "dsl.shape",
        inputs: { n: t.int, xs: t.list(t.int), word: t.string },
        outputs: { r: t.int, ys: t.list(t.int), loud: t.string },
      },
      ({ n, xs, word }) => {
        const picked = conditional("pick")
          .if(n.gt(10), () => add({ a: n, b: 1000 }))
          .elif(n.eq(0), () => add({ a: n, b: -1 }))
          .else(() => add({ a: n, b: 1 }));
        const squares = map(square, { parallelism: 2 })({ x: xs });
        return { r: picked.sum, ys: squares.y, loud: shout({ word }).loud };
      },
    );
    const big = await remote.execute(shape, { n: 11, xs: [1, 2, 3], word: "hey" }, { wait: true });
    expect(big.phase, big.error).toBe(W.SUCCEEDED);
    expect(await big.outputs()).toEqual({ r: 1011, ys: [1, 4, 9], loud: "HEY" });
    const small = await remote.execute(shape, { n: 2, xs: [], word: "x" }, { wait: true });
    expect(small.phase, small.error).toBe(W.SUCCEEDED);
    expect(await small.outputs()).toEqual({ r: 3, ys: [], loud: "X" });
    await small.sync({ nodes: true });
    const pick = small.nodes.find((x) => x.node.id?.nodeId === "pick");
    // As propeller does, only the case taken runs (as the branch's child); the others leave no node execution.
    expect(pick?.children.map((c) => [c.node.metadata?.specNodeId, c.node.closure?.phase])).toEqual([
      ["pick-c2-n0", N.SUCCEEDED],
    ]);
  });

  it("waits for typed input, sleeps durably, and calls sub-workflows and launch plans", async () => {
    const inner = workflow({ name: "dsl.inner", inputs: { a: t.int }, outputs: { o: t.int } }, ({ a }) => ({
      o: square({ x: a }).y,
    }));
    const plus = launchPlan({
      workflow: inner,
      name: "dsl.inner-default",
      defaultInputs: { a: 4 },
      notifications: [{ phases: ["failed", "timedOut"], email: ["oncall@example.com"] }],
      labels: { team: "data" },
      maxParallelism: 3,
    });
    const outer = workflow(
      { name: "dsl.outer", inputs: {}, outputs: { a: t.int, b: t.int, c: t.int } },
      () => {
        const n = waitForInput("n", t.int);
        const nap = sleep("100ms");
        const viaSub = inner({ a: n });
        const viaLp = plus({}, { after: [nap] });
        return { a: viaSub.o, b: viaLp.o, c: 7 };
      },
    );
    const exe = await remote.execute(outer, {});
    await eventually(
      () => remote.listSignals(exe),
      (s) => s.length === 1,
      20_000,
      50,
    );
    await remote.setInput("n", exe, 6);
    await exe.wait({ timeoutMs: 30_000 });
    expect(exe.phase, exe.error).toBe(W.SUCCEEDED);
    expect(await exe.outputs()).toEqual({ a: 36, b: 16, c: 7 });
    const lp = await remote.fetchLaunchPlan("dsl.inner-default");
    expect(lp.spec?.entityMetadata?.notifications[0]?.type.case).toBe("email");
    expect(lp.spec?.labels?.values).toEqual({ team: "data" });
  });

  it("reports a failing function task as a user error and rejects bad definitions and inputs clearly", async () => {
    const boom = task({ name: "dsl.boom", inputs: {}, outputs: { o: t.int } }, () => {
      throw new Error("kaboom");
    });
    const failing = workflow({ name: "dsl.failing", inputs: {}, outputs: { o: t.int } }, () => ({
      o: boom({}).o,
    }));
    const exe = await remote.execute(failing, {}, { wait: true });
    expect(exe.phase).toBe(W.FAILED);
    expect(exe.error).toContain("kaboom");

    // @ts-expect-error a wrongly typed input is a compile error too; untyped callers get it at run time
    await expect(remote.execute(reviewed, { x: "five" })).rejects.toThrow(TypeMismatchError);
    // @ts-expect-error a missing input is a compile error too
    await expect(remote.execute(reviewed, {})).rejects.toThrow(/missing required input "x"/);
    expect(() => add({ a: 1, b: 2 })).toThrow(/inside a workflow body/);
    expect(() =>
      workflow({ name: "dsl.bad", inputs: { x: t.int }, outputs: { o: t.int } }, ({ x }) => ({
        // @ts-expect-error an unknown input is a compile error too
        o: add({ a: x, c: 1 }).sum,
      })),
    ).toThrow(DslError);
  });
});
