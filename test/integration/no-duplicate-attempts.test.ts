// kill -9 of a server in the middle of container tasks (then a restart, or a second replica that takes over): its
// task processes die with it, and the attempts run afterwards never overlap one that was still running (no attempt
// runs twice at once, nothing of the dead server keeps writing).
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WorkflowExecution_Phase } from "../../gen/flyteidl/core/execution_pb.js";
import { AdminService } from "../../gen/flyteidl/service/admin_pb.js";
import {
  launchPlanId,
  taskId,
  taskNode,
  taskTemplate,
  workflowId,
  workflowTemplate,
} from "../fixtures/flyte-builders.js";
import { eventually } from "../support/eventually.js";
import { processesInGroups, processesWith } from "../support/processes.js";
import { type ServerProcess, startServerProcess } from "../support/server-process.js";
import { createTestDatabase, type TestDatabase } from "../support/test-database.js";

const P = { project: "flytesnacks", domain: "development" };
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "petrel-no-dup-"));
/** In every task's environment (execution envs): finds the task processes; LEDGER is the file they write to. */
const TAG = { key: "PETREL_LEDGER_TAG", value: randomBytes(6).toString("hex") };
const marker = `${TAG.key}=${TAG.value}`;
const NODES = ["a", "b", "c"];
/** Long enough that no attempt of a killed server can end on its own before the checks. */
const TASK_SECONDS = 4;
let database: TestDatabase;
const procs: ServerProcess[] = [];

async function serve() {
  const proc = await startServerProcess(["--database-url", database.url], {
    PETREL_ENGINE_LEASE_MS: "1500",
    // The engine's blobs and attempt directories under this test's own directory (shared by its servers).
    PETREL_HOME: path.join(scratch, "home"),
  });
  procs.push(proc);
  const admin = createClient(
    AdminService,
    createGrpcTransport({ baseUrl: `http://127.0.0.1:${proc.grpcPort}` }),
  );
  return { proc, admin };
}
type Admin = Awaited<ReturnType<typeof serve>>["admin"];

beforeAll(async () => {
  database = await createTestDatabase();
  const { proc, admin } = await serve();
  await admin.registerProject({ project: { id: "flytesnacks", name: "flytesnacks" } });
  // Each attempt records its start and end with the pid of the server that runs it and the time.
  // The task's parent is the server's task spawner (task-spawner.ts): the server is the spawner's parent.
  const record = (event: string) =>
    `echo "{{.outputPrefix}} ${event} $(cut -d' ' -f4 /proc/$PPID/stat) $(date +%s%N) $$" >> "$LEDGER"`;
  await admin.createTask({
    id: taskId("ledger"),
    spec: {
      template: taskTemplate({
        command: ["sh", "-c", `${record("start")}; sleep ${TASK_SECONDS}; ${record("end")}`],
      }),
    },
  });
  const wf = workflowTemplate({ nodes: NODES.map((n) => taskNode(n, taskId("ledger"))) });
  await admin.createWorkflow({ id: workflowId("ledger"), spec: { template: wf } });
  await admin.createLaunchPlan({ id: launchPlanId("ledger"), spec: { workflowId: workflowId("ledger") } });
  await proc.stop();
}, 120_000);

afterAll(async () => {
  for (const p of procs)
    if (p.child.exitCode === null && p.child.signalCode === null) await p.stop("SIGKILL");
  await database?.drop();
  fs.rmSync(scratch, { recursive: true, force: true });
});

interface Line {
  /** `<execution dir>/<node>/data/<attempt>`, from the attempt's output directory. */
  readonly attempt: string;
  readonly event: "start" | "end";
  /** The server that ran it (the parent of the task's parent, the server's task spawner). */
  readonly server: number;
  readonly atNs: bigint;
  /** The task's main process, leader of its process group. */
  readonly group: number;
}

function groupBy<T>(items: Iterable<T>, key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) groups.set(key(item), [...(groups.get(key(item)) ?? []), item]);
  return groups;
}

function readLedger(ledger: string): Line[] {
  if (!fs.existsSync(ledger)) return [];
  return fs
    .readFileSync(ledger, "utf8")
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => {
      const [dir = "", event, server = "", at = "", group = ""] = l.split(" ");
      return {
        // `…/<execution dir>/<node>/data/<attempt>` (the storage layout's attempt output directory)
        attempt: dir.split("/").slice(-4).join("/"),
        event: event as Line["event"],
        server: Number(server),
        atNs: BigInt(at),
        group: Number(group),
      };
    });
}

const nowNs = () => BigInt(Date.now()) * 1_000_000n;

/** Starts the executions and waits until every task runs; returns the ledger they write. */
async function launch(admin: Admin, names: readonly string[]): Promise<string> {
  const ledger = path.join(scratch, `ledger-${names[0]}`);
  for (const name of names)
    await admin.createExecution({
      ...P,
      name,
      spec: {
        launchPlan: launchPlanId("ledger"),
        envs: { values: [TAG, { key: "LEDGER", value: ledger }] },
      },
      inputs: {},
    });
  await eventually(
    async () => readLedger(ledger).filter((l) => l.event === "start").length,
    (n) => n === names.length * NODES.length,
    10_000,
  );
  return ledger;
}

/**
 * kill -9 of a server: the processes of its tasks (their process groups: `sh`, `sleep`) are gone well before their
 * sleep would end on its own.
 */
async function killServer(
  proc: ServerProcess,
  ledger: string,
): Promise<{ pid: number; killedAtNs: bigint; deadAtNs: bigint }> {
  const pid = proc.child.pid as number;
  const groups = new Set(readLedger(ledger).flatMap((l) => (l.server === pid ? [l.group] : [])));
  expect(processesInGroups(groups).length, "the server's tasks are running").toBeGreaterThan(groups.size);
  const killedAtNs = nowNs();
  await proc.stop("SIGKILL");
  await eventually(
    async () => processesInGroups(groups),
    (pids) => pids.length === 0,
    (TASK_SECONDS * 1000) / 2,
  );
  return { pid, killedAtNs, deadAtNs: nowNs() };
}

async function expectSucceeded(admin: Admin, names: readonly string[]): Promise<void> {
  for (const name of names) {
    const e = await eventually(
      () => admin.getExecution({ id: { ...P, name } }),
      (x) =>
        [WorkflowExecution_Phase.SUCCEEDED, WorkflowExecution_Phase.FAILED].includes(x.closure?.phase ?? 0),
      25_000,
      100,
    );
    expect(e.closure?.phase, name).toBe(WorkflowExecution_Phase.SUCCEEDED);
  }
}

/**
 * Reads the ledger after the crash: nothing of the killed server wrote after the kill; each attempt started once;
 * the killed server's attempts never ended and every other did; the attempts of a node never overlap in time (a
 * killed one lasted until its processes were seen gone); each node ended exactly once.
 */
function expectNoDuplicates(ledger: string, nodes: number, crash: Awaited<ReturnType<typeof killServer>>) {
  const lines = readLedger(ledger);
  expect(lines.filter((l) => l.server === crash.pid && l.atNs > crash.killedAtNs)).toEqual([]);
  const byAttempt = groupBy(lines, (l) => l.attempt);
  for (const [attempt, ls] of byAttempt) {
    expect(
      ls.filter((l) => l.event === "start"),
      attempt,
    ).toHaveLength(1);
    expect(
      ls.some((l) => l.event === "end"),
      attempt,
    ).toBe(ls[0]?.server !== crash.pid);
  }
  expect([...byAttempt.values()].filter((ls) => ls[0]?.server === crash.pid).length).toBeGreaterThan(0);
  const byNode = groupBy(byAttempt.entries(), ([attempt]) => attempt.split("/").slice(0, 2).join("/"));
  expect(byNode.size).toBe(nodes);
  for (const [node, attempts] of byNode) {
    const spans = attempts
      .map(([, ls]) => ({
        from: ls.find((l) => l.event === "start")?.atNs ?? 0n,
        to: ls.find((l) => l.event === "end")?.atNs,
      }))
      .sort((x, y) => (x.from < y.from ? -1 : 1));
    expect(spans.filter((s) => s.to !== undefined).length, `${node} ended once`).toBe(1);
    for (let i = 1; i < spans.length; i++)
      expect((spans[i]?.from ?? 0n) > (spans[i - 1]?.to ?? crash.deadAtNs), node).toBe(true);
  }
}

describe("no duplicate attempts", () => {
  it("kills a dead server's task processes; the restarted server runs each attempt once", async () => {
    const names = Array.from({ length: 4 }, (_, i) => `restart-${i}`);
    const first = await serve();
    const ledger = await launch(first.admin, names);
    const crash = await killServer(first.proc, ledger);
    expect(processesWith(marker), "no task process is left").toEqual([]);
    const second = await serve();
    await expectSucceeded(second.admin, names);
    await second.proc.stop();
    expectNoDuplicates(ledger, names.length * NODES.length, crash);
  }, 30_000);

  it("kills a dead replica's task processes; the surviving replica takes its attempts over once", async () => {
    const names = Array.from({ length: 4 }, (_, i) => `replica-${i}`);
    const replicas = await Promise.all([serve(), serve()]);
    const ledger = await launch(replicas[0].admin, names);
    // Both engines claim the attempts; the one running more of them dies (either may have got them all).
    const running = (r: (typeof replicas)[number]) =>
      readLedger(ledger).filter((l) => l.event === "start" && l.server === r.proc.child.pid).length;
    const [doomed, survivor] =
      running(replicas[0]) >= running(replicas[1]) ? replicas : [replicas[1], replicas[0]];
    const crash = await killServer(doomed.proc, ledger);
    await expectSucceeded(survivor.admin, names);
    await survivor.proc.stop();
    expectNoDuplicates(ledger, names.length * NODES.length, crash);
  }, 30_000);
});
