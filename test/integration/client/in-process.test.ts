// FriendlyRemote.inProcess(): a whole server with its own embedded Postgres inside the test process.
import { readdir } from "node:fs/promises";
import os from "node:os";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FriendlyRemote, t, task, workflow } from "../../../client/index.js";
import { WorkflowExecution_Phase as W } from "../../../gen/flyteidl/core/execution_pb.js";

const greet = task({ name: "greet", inputs: { who: t.string }, outputs: { text: t.string } }, ({ who }) => ({
  text: `hello, ${who}`,
}));
const hello = workflow(
  { name: "hello", inputs: { who: t.string }, outputs: { text: t.string } },
  ({ who }) => ({
    text: greet({ who }).text,
  }),
);

let remote: FriendlyRemote;
let ownPostgres: FriendlyRemote | undefined;
beforeAll(async () => {
  remote = await FriendlyRemote.inProcess({ project: "local", domain: "development" });
}, 120_000);
afterAll(async () => {
  await remote?.close();
  await ownPostgres?.close();
});

describe("FriendlyRemote.inProcess", () => {
  it("starts a server on an embedded Postgres, registers the project, and runs a DSL workflow", async () => {
    expect((await remote.listProjects()).map((p) => p.id)).toContain("local");
    const exe = await remote.execute(hello, { who: "petrel" }, { wait: true });
    expect(exe.phase, exe.error).toBe(W.SUCCEEDED);
    expect(await exe.outputs()).toEqual({ text: "hello, petrel" });
    const span = await remote.getExecutionMetrics(exe);
    expect(span?.spans.length).toBeGreaterThan(0);
  });

  it("removes its temporary data directory on close", async () => {
    ownPostgres = await FriendlyRemote.inProcess({ project: "other", domain: "development" });
    const exe = await ownPostgres.execute(hello, { who: "again" }, { wait: true });
    expect(await exe.outputs()).toEqual({ text: "hello, again" });
    const ours = async () => (await readdir(os.tmpdir())).filter((d) => d.startsWith("petrel-in-process-"));
    const before = await ours();
    await ownPostgres.close();
    ownPostgres = undefined;
    expect((await ours()).length).toBe(before.length - 1);
  }, 120_000);
});
