// WatchManager against a real database: streams opened together, or woken by one commit, share one state
// statement, and each still gets exactly its own execution's events.
import { create, toJson } from "@bufbuild/protobuf";
import type { Knex } from "knex";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WorkflowExecutionIdentifierSchema } from "../../gen/flyteidl/core/identifier_pb.js";
import { type WatchEvent, WatchEventSchema } from "../../gen/petrel/v1/watch_pb.js";
import { NotificationHub } from "../../server/db/notifications.js";
import { createLogger } from "../../server/logger.js";
import { WatchManager } from "../../server/managers/watch-manager.js";
import { WATCH_CHANNEL } from "../../server/managers/workflow-event-recorder.js";
import { loadExecutionStates } from "../../server/repositories/execution-state-repo.js";
import {
  bind,
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

const PROJECT = "flytesnacks";
const key = (domain: string, name: string) => ({ project: PROJECT, domain, name });

let running: TestServer; // engine on: executions that finish, with node and task rows
let idle: TestServer; // engine off: executions stay queued until a test changes them
const hubs: NotificationHub[] = [];

async function register(t: TestServer): Promise<void> {
  await t.admin.registerProject({ project: { id: PROJECT, name: PROJECT } });
  await t.admin.createTask({
    id: taskId("echo"),
    spec: { template: taskTemplate({ type: "echo", inputs: { a: intType() }, outputs: { a: intType() } }) },
  });
  const template = workflowTemplate({
    inputs: { x: intType() },
    outputs: { o: intType() },
    nodes: [
      taskNode("n0", taskId("echo"), [bind("a", "", "x")]),
      taskNode("n1", taskId("echo"), [bind("a", "n0", "a")]),
    ],
    outputBindings: [bind("o", "n1", "a")],
  });
  await t.admin.createWorkflow({ id: workflowId("two"), spec: { template } });
  await t.admin.createLaunchPlan({ id: launchPlanId("two"), spec: { workflowId: workflowId("two") } });
}

async function launch(t: TestServer, k: ReturnType<typeof key>, x: number): Promise<void> {
  await t.admin.createExecution({
    ...k,
    spec: { launchPlan: launchPlanId("two") },
    inputs: { literals: { x: literalInt(x) } },
  });
}

async function watchManager(t: TestServer): Promise<WatchManager> {
  const hub = new NotificationHub(t.server.databaseUrl, [WATCH_CHANNEL], createLogger("error"));
  hubs.push(hub);
  await hub.start();
  return new WatchManager(t.server.db, hub);
}

/** Counts the state statements (`loadExecutionStates`) run on `db` from now on. */
function countStateStatements(db: Knex): { count: () => number; stop: () => void } {
  let n = 0;
  const on = (q: { sql: string }) => {
    if (q.sql.includes("node_rows")) n++;
  };
  db.on("query", on);
  return { count: () => n, stop: () => db.off("query", on) };
}

const json = (events: WatchEvent[]) => events.map((e) => toJson(WatchEventSchema, e));

beforeAll(async () => {
  [running, idle] = await Promise.all([
    startTestServer(),
    startTestServer({ env: { PETREL_ENGINE: "off" } }),
  ]);
  await Promise.all([register(running), register(idle)]);
});
afterAll(async () => {
  for (const h of hubs) await h.stop();
  await idle?.stop();
  await running?.stop();
});

describe("WatchManager coalescing", () => {
  it("serves streams opened together with one statement, each with its own events", async () => {
    // The same name in two domains: the by-key lookup must tell them apart.
    const keys = [...Array.from({ length: 8 }, (_, i) => key("development", `c${i}`)), key("staging", "c0")];
    for (const [i, k] of keys.entries()) await launch(running, k, i);
    const reference = new Map<string, unknown[]>();
    for (const k of keys) {
      const events: WatchEvent[] = [];
      for await (const e of running.watch.watchExecution({ id: k })) events.push(e);
      reference.set(`${k.domain}/${k.name}`, json(events));
    }
    const watch = await watchManager(running);
    const statements = countStateStatements(running.server.db);
    try {
      const signal = new AbortController().signal;
      const got = await Promise.all(
        keys.map(async (k) => {
          const events: WatchEvent[] = [];
          for await (const e of watch.watchExecution(create(WorkflowExecutionIdentifierSchema, k), signal))
            events.push(e);
          return events;
        }),
      );
      expect(statements.count()).toBe(1);
      for (const [i, k] of keys.entries())
        expect(json(got[i] ?? [])).toEqual(reference.get(`${k.domain}/${k.name}`));
    } finally {
      statements.stop();
    }
  });

  it("reads by id and by key in one statement, leaving out what does not exist", async () => {
    const [a] = await loadExecutionStates(running.server.db, [], [key("development", "c1")]);
    expect(a?.nodes.map((n) => n.node_id)).toEqual(expect.arrayContaining(["n0", "n1"]));
    expect(a?.tasks.length).toBeGreaterThanOrEqual(2);
    const states = await loadExecutionStates(
      running.server.db,
      [a?.exec.id ?? "", "999999"],
      [key("development", "c1"), key("staging", "c0"), key("staging", "nope")],
    );
    expect(states.map((s) => `${s.exec.execution_domain}/${s.exec.execution_name}`).sort()).toEqual([
      "development/c1",
      "staging/c0",
    ]);
    const c1 = states.find((s) => s.exec.id === a?.exec.id);
    expect(c1?.tasks.map((t) => t.node_execution_id)).toEqual(a?.tasks.map((t) => t.node_execution_id));
    expect(c1?.tasks.every((t) => t.closure instanceof Buffer && t.updated_at instanceof Date)).toBe(true);
  });

  it("wakes the streams notified by one commit with one statement, and ends them at the terminal phase", async () => {
    const keys = Array.from({ length: 8 }, (_, i) => key("development", `q${i}`));
    for (const [i, k] of keys.entries()) await launch(idle, k, i);
    const ids = (
      await idle.server
        .db("executions")
        .whereIn(
          "execution_name",
          keys.map((k) => k.name),
        )
        .select("id")
    ).map((r: { id: string }) => r.id);
    const watch = await watchManager(idle);
    const statements = countStateStatements(idle.server.db);
    const seen = keys.map(() => [] as WatchEvent[]);
    try {
      const signal = new AbortController().signal;
      const streams = Promise.all(
        keys.map(async (k, i) => {
          for await (const e of watch.watchExecution(create(WorkflowExecutionIdentifierSchema, k), signal))
            seen[i]?.push(e);
        }),
      );
      await eventually(
        async () => seen.map((s) => s.length),
        (n) => n.every((c) => c === 1),
      );
      expect(statements.count()).toBe(1);
      const commit = (phase: string) =>
        idle.server.db.transaction(async (trx) => {
          await trx("executions").whereIn("id", ids).update({ phase, updated_at: trx.fn.now() });
          for (const id of ids) await trx.raw("SELECT pg_notify(?, ?)", [WATCH_CHANNEL, id]);
        });
      await commit("RUNNING");
      await eventually(
        async () => seen.map((s) => s.length),
        (n) => n.every((c) => c === 2),
      );
      // One commit's notifications arrive together; allow them to be read in two parts.
      expect(statements.count()).toBeLessThanOrEqual(3);
      await commit("SUCCEEDED");
      await streams;
      expect(statements.count()).toBeLessThanOrEqual(5);
      for (const [i, k] of keys.entries()) {
        expect(seen[i]?.map((e) => (e.kind.case === "execution" ? e.kind.value.id?.name : "?"))).toEqual([
          k.name,
          k.name,
          k.name,
        ]);
      }
    } finally {
      statements.stop();
    }
  });
});
