// The embedded Postgres dies under a running server (kill -9 of its postmaster): health reports NOT_SERVING and
// rpcs answer UNAVAILABLE while it is down; the server restarts it by itself and everything works again on the same
// data. When it cannot be restarted, the server stops and says so (`petrel serve` then exits non-zero).
// While "down", the socket directory is moved away, so that restarts fail until the test puts it back.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Code, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WorkflowExecution_Phase } from "../../gen/flyteidl/core/execution_pb.js";
import { AdminService } from "../../gen/flyteidl/service/admin_pb.js";
import { Health, HealthCheckResponse_ServingStatus as Status } from "../../gen/grpc/health/v1/health_pb.js";
import { startPetrel } from "../../server/app.js";
import { loadConfig } from "../../server/config.js";
import { createLogger } from "../../server/logger.js";
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
import { expectCode } from "../support/expect-error.js";
import { createGrpcJsClient } from "../support/grpc-js-client.js";
import { type ServerProcess, startServerProcess } from "../support/server-process.js";

const P = { project: "flytesnacks", domain: "development" };
const homes: string[] = [];
let proc: ServerProcess | undefined;

function scratchHome(): string {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), "petrel-pgr-"));
  homes.push(home);
  return home;
}

function postmasterPid(home: string): number {
  return Number.parseInt(
    fs.readFileSync(path.join(home, "pg", "postmaster.pid"), "utf8").split("\n")[0] ?? "",
    10,
  );
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Kills the postmaster; until `undo` is called, no Postgres can start there (its socket directory is gone). */
function killPostgres(home: string): { pid: number; undo: () => void } {
  const run = path.join(home, "run");
  fs.renameSync(run, `${run}-away`);
  const pid = postmasterPid(home);
  process.kill(pid, "SIGKILL");
  return { pid, undo: () => fs.renameSync(`${run}-away`, run) };
}

async function healthz(port: number): Promise<{ status: number; body: string }> {
  const res = await fetch(`http://127.0.0.1:${port}/healthz`);
  return { status: res.status, body: await res.text() };
}

afterAll(async () => {
  if (proc !== undefined && proc.child.exitCode === null && proc.child.signalCode === null)
    await proc.stop("SIGKILL");
  for (const home of homes) {
    const pidFile = path.join(home, "pg", "postmaster.pid");
    // A Postgres still running (a failed test) is stopped and its data kept to look at; otherwise it goes.
    if (fs.existsSync(pidFile) && alive(postmasterPid(home))) process.kill(postmasterPid(home), "SIGINT");
    else fs.rmSync(home, { recursive: true, force: true });
  }
});

describe("the embedded Postgres dying under a running server", () => {
  let home: string;
  let admin: ReturnType<typeof createClient<typeof AdminService>>;

  async function runExecution(name: string, x: number): Promise<void> {
    await admin.createExecution({
      ...P,
      name,
      spec: { launchPlan: launchPlanId("double") },
      inputs: { literals: { x: literalInt(x) } },
    });
    await eventually(
      async () => (await admin.getExecution({ id: { ...P, name } })).closure?.phase,
      (p) => p === WorkflowExecution_Phase.SUCCEEDED,
    );
  }

  beforeAll(async () => {
    home = scratchHome();
    proc = await startServerProcess(["--home", home]);
    admin = createClient(AdminService, createGrpcTransport({ baseUrl: `http://127.0.0.1:${proc.grpcPort}` }));
    await admin.registerProject({ project: { id: P.project, name: P.project } });
    await admin.createTask({
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
    await admin.createWorkflow({ id: workflowId("double"), spec: { template } });
    await admin.createLaunchPlan({ id: launchPlanId("double"), spec: { workflowId: workflowId("double") } });
  });

  it("reports NOT_SERVING and answers UNAVAILABLE while it is down, then recovers by itself", async () => {
    const server = proc as ServerProcess;
    await runExecution("before", 7);
    expect(await healthz(server.httpPort)).toEqual({ status: 200, body: "ok\n" });

    const transport = createGrpcTransport({ baseUrl: `http://127.0.0.1:${server.grpcPort}` });
    const watching = new AbortController();
    const watched: Status[] = [];
    const watch = (async () => {
      for await (const r of createClient(Health, transport).watch({}, { signal: watching.signal }))
        watched.push(r.status);
    })().catch(() => undefined);
    await eventually(
      async () => watched.length,
      (n) => n === 1,
    );

    const killed = killPostgres(home);
    const down = await eventually(
      () => healthz(server.httpPort),
      (h) => h.status === 503,
    );
    expect(down.body).toBe(
      "database unavailable: the embedded Postgres was killed by SIGKILL; restarting it\n",
    );
    const grpcHealth = createGrpcJsClient(Health, `127.0.0.1:${server.grpcPort}`);
    try {
      expect((await grpcHealth.unary("check", { service: "" })).status).toBe(Status.NOT_SERVING);
    } finally {
      grpcHealth.close();
    }
    const outage = [
      () => admin.getExecution({ id: { ...P, name: "before" } }),
      () => admin.listExecutions({ id: P, limit: 10 }),
      () =>
        admin.createExecution({
          ...P,
          name: "during",
          spec: { launchPlan: launchPlanId("double") },
          inputs: { literals: { x: literalInt(1) } },
        }),
    ];
    for (const call of outage) {
      const err = await expectCode(call(), Code.Unavailable);
      expect(err.rawMessage).not.toContain(home);
    }

    // Restarts fail (with backoff) until the socket directory is back.
    await eventually(
      async () => server.output().includes("restarting the embedded Postgres failed"),
      (failedOnce) => failedOnce,
    );
    expect(server.child.exitCode).toBeNull();
    killed.undo();
    await eventually(
      () => healthz(server.httpPort),
      (h) => h.status === 200,
    );
    expect(alive(killed.pid)).toBe(false);
    expect(postmasterPid(home)).not.toBe(killed.pid);
    await eventually(
      async () => watched.length,
      (n) => n === 3,
    );
    expect(watched).toEqual([Status.SERVING, Status.NOT_SERVING, Status.SERVING]);
    watching.abort();
    await watch;

    // The same process, its pool, LISTEN connection and engine work again, on the same data.
    expect(server.child.exitCode).toBeNull();
    await runExecution("after", 21);
    const after = await admin.getExecutionData({ id: { ...P, name: "after" } });
    expect(after.fullOutputs?.literals.o).toEqual(literalInt(21));
    const before = await admin.getExecutionData({ id: { ...P, name: "before" } });
    expect(before.fullOutputs?.literals.o).toEqual(literalInt(7));
    expect(server.output()).toContain("the embedded Postgres was killed by SIGKILL; restarting it");
    // Log lines reach stderr in batches (up to 50 ms after they were logged): the server may be serving before this
    // one is out.
    await eventually(
      async () => server.output().includes("the embedded Postgres is running again"),
      (logged) => logged,
      5_000,
    );

    // A clean stop still stops the restarted Postgres.
    const restarted = postmasterPid(home);
    expect(await server.stop("SIGTERM")).toBe(0);
    expect(alive(restarted)).toBe(false);
  });
});

describe("an embedded Postgres that cannot be restarted", () => {
  it("stops the server and reports the failure", async () => {
    const home = scratchHome();
    const config = loadConfig(
      ["--home", home, "--host", "127.0.0.1", "--grpc-port", "0", "--http-port", "0", "--scheduler", "off"],
      {},
    );
    let fatal: (err: Error) => void = () => undefined;
    const failed = new Promise<Error>((resolve) => {
      fatal = resolve;
    });
    const server = await startPetrel(config, createLogger("silent"), {
      unsafeFastDatabase: true,
      embeddedRestart: { attempts: 2, firstDelayMs: 20 },
      onFatal: (err) => fatal(err),
    });
    expect((await healthz(server.httpPort)).status).toBe(200);
    const killed = killPostgres(home);
    try {
      const err = await failed;
      expect(err.message).toBe("the embedded Postgres could not be restarted (2 attempts failed)");
      // onFatal comes once the server stopped: its listeners are closed.
      await expect(healthz(server.httpPort)).rejects.toThrow();
      expect(alive(killed.pid)).toBe(false);
    } finally {
      killed.undo();
      await server.stop();
    }
  });
});
