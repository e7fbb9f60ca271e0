// kill -9 in the middle of running executions, and two replicas sharing one database.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TaskExecution_Phase, WorkflowExecution_Phase } from "../../gen/flyteidl/core/execution_pb.js";
import { AdminService } from "../../gen/flyteidl/service/admin_pb.js";
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
import { type ServerProcess, startServerProcess } from "../support/server-process.js";
import { createTestDatabase, type TestDatabase } from "../support/test-database.js";

const P = { project: "flytesnacks", domain: "development" };
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "petrel-durability-"));
const ledger = path.join(scratch, "ledger");
let database: TestDatabase;
const procs: ServerProcess[] = [];
let lostAttempts = 0;

async function serve(): Promise<{
  proc: ServerProcess;
  admin: ReturnType<typeof createClient<typeof AdminService>>;
}> {
  const proc = await startServerProcess(["--database-url", database.url], {
    PETREL_HOME: path.join(scratch, "home"),
    PETREL_ENGINE_LEASE_MS: "1500",
  });
  procs.push(proc);
  return {
    proc,
    admin: createClient(AdminService, createGrpcTransport({ baseUrl: `http://127.0.0.1:${proc.grpcPort}` })),
  };
}

beforeAll(async () => {
  fs.chmodSync(scratch, 0o777);
  database = await createTestDatabase();
  const { proc, admin } = await serve();
  await admin.registerProject({ project: { id: "flytesnacks", name: "flytesnacks" } });
  // Each attempt appends "<execution> <node> <server pid>" to a ledger, so duplicates would show.
  const step = (name: string) =>
    admin.createTask({
      id: taskId(name),
      spec: {
        template: taskTemplate({
          inputs: { a: intType() },
          outputs: { o: intType() },
          command: [
            "sh",
            "-c",
            // The server: the parent of the task's parent (the server's task spawner).
            `sleep 0.3; echo "$PETREL_EXEC ${name} $(cut -d' ' -f4 /proc/$PPID/stat)" >> ${ledger}; echo $(({{.inputs.a}} + 1)) > {{.outputPrefix}}/o`,
          ],
        }),
      },
    });
  await step("s1");
  await step("s2");
  const wf = workflowTemplate({
    inputs: { x: intType() },
    outputs: { o: intType() },
    nodes: [
      taskNode("a", taskId("s1"), [bind("a", "", "x")]),
      taskNode("b", taskId("s2"), [bind("a", "a", "o")]),
    ],
    outputBindings: [bind("o", "b", "o")],
  });
  await admin.createWorkflow({ id: workflowId("steps"), spec: { template: wf } });
  await admin.createLaunchPlan({ id: launchPlanId("steps"), spec: { workflowId: workflowId("steps") } });
  await proc.stop();
}, 180_000);

afterAll(async () => {
  for (const p of procs)
    if (p.child.exitCode === null && p.child.signalCode === null) await p.stop("SIGKILL");
  await database?.drop();
});

async function launch(admin: ReturnType<typeof createClient<typeof AdminService>>, names: string[]) {
  for (const name of names) {
    await admin.createExecution({
      ...P,
      name,
      spec: { launchPlan: launchPlanId("steps"), envs: { values: [{ key: "PETREL_EXEC", value: name }] } },
      inputs: { literals: { x: literalInt(1) } },
    });
  }
}

async function expectAllSucceeded(
  admin: ReturnType<typeof createClient<typeof AdminService>>,
  names: string[],
) {
  for (const name of names) {
    const e = await eventually(
      () => admin.getExecution({ id: { ...P, name } }),
      (x) =>
        [WorkflowExecution_Phase.SUCCEEDED, WorkflowExecution_Phase.FAILED].includes(x.closure?.phase ?? 0),
      60_000,
      100,
    );
    expect(e.closure?.phase, name).toBe(WorkflowExecution_Phase.SUCCEEDED);
    expect((await admin.getExecutionData({ id: { ...P, name } })).fullOutputs?.literals.o).toEqual(
      literalInt(3),
    );
    for (const node of ["a", "b"]) {
      const attempts = await admin.listTaskExecutions({
        nodeExecutionId: { nodeId: node, executionId: { ...P, name } },
        limit: 10,
      });
      // Exactly one attempt succeeded and it is the last; attempts cut off by a crash are recorded as
      // system failures (LostWorker) and retried, never recorded twice.
      const phases = attempts.taskExecutions.map((t) => t.closure?.phase);
      expect(
        phases.filter((p) => p === TaskExecution_Phase.SUCCEEDED),
        `${name}/${node}`,
      ).toHaveLength(1);
      expect(phases[phases.length - 1]).toBe(TaskExecution_Phase.SUCCEEDED);
      lostAttempts += attempts.taskExecutions.length - 1;
      for (const lost of attempts.taskExecutions.slice(0, -1)) {
        expect(lost.closure?.phase).toBe(TaskExecution_Phase.RETRYABLE_FAILED);
        expect(lost.closure?.outputResult).toMatchObject({ case: "error", value: { code: "LostWorker" } });
      }
    }
  }
}

function ledgerLines(prefix: string): string[][] {
  if (!fs.existsSync(ledger)) return [];
  return fs
    .readFileSync(ledger, "utf8")
    .trim()
    .split("\n")
    .map((l) => l.split(" "))
    .filter((p) => p[0]?.startsWith(prefix) === true);
}

describe("durability", () => {
  it("finishes every execution after kill -9 mid-run, recording each attempt once", async () => {
    const names = Array.from({ length: 6 }, (_, i) => `crash-${i}`);
    const first = await serve();
    await launch(first.admin, names);
    await eventually(
      async () => ledgerLines("crash-").length,
      (n) => n >= 2,
      20_000,
      20,
    );
    await first.proc.stop("SIGKILL");
    const second = await serve();
    lostAttempts = 0;
    await expectAllSucceeded(second.admin, names);
    expect(lostAttempts, "the crash should have cut off running attempts").toBeGreaterThan(0);
    await second.proc.stop();
  });

  it("shares the work between two replicas and never runs an attempt twice at once", async () => {
    const names = Array.from({ length: 12 }, (_, i) => `shared-${i}`);
    const [a, b] = await Promise.all([serve(), serve()]);
    await launch(a.admin, names.slice(0, 6));
    await launch(b.admin, names.slice(6));
    await expectAllSucceeded(a.admin, names);
    const lines = ledgerLines("shared-");
    const keys = lines.map((l) => `${l[0]} ${l[1]}`);
    expect(new Set(keys).size).toBe(keys.length);
    expect(keys).toHaveLength(names.length * 2);
    const pids = new Set(lines.map((l) => l[2]));
    expect(pids).toEqual(new Set([String(a.proc.child.pid), String(b.proc.child.pid)]));
    await Promise.all([a.proc.stop(), b.proc.stop()]);
  });
});
