import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { afterAll, describe, expect, it } from "vitest";
import { AdminService } from "../../gen/flyteidl/service/admin_pb.js";
import { exited, runPetrel, type ServerProcess, startServerProcess } from "../support/server-process.js";

const home = fs.mkdtempSync(path.join(os.tmpdir(), "petrel-home-"));
const started: ServerProcess[] = [];

async function start(): Promise<{
  proc: ServerProcess;
  admin: ReturnType<typeof createClient<typeof AdminService>>;
}> {
  const proc = await startServerProcess(["--home", home]);
  started.push(proc);
  const admin = createClient(
    AdminService,
    createGrpcTransport({ baseUrl: `http://127.0.0.1:${proc.grpcPort}` }),
  );
  return { proc, admin };
}

function postmasterPid(): number | undefined {
  const file = path.join(home, "pg", "postmaster.pid");
  if (!fs.existsSync(file)) return undefined;
  return Number.parseInt(fs.readFileSync(file, "utf8").split("\n")[0] ?? "", 10);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

afterAll(async () => {
  for (const p of started)
    if (p.child.exitCode === null && p.child.signalCode === null) await p.stop("SIGKILL");
  const pid = postmasterPid();
  if (pid !== undefined && alive(pid)) process.kill(pid, "SIGINT");
});

describe("the server process on its embedded Postgres", () => {
  it("keeps data across a clean restart and stops its Postgres on SIGTERM", async () => {
    const first = await start();
    expect(first.proc.output()).toContain(`"data":${JSON.stringify(path.join(home, "pg"))}`);
    await first.admin.registerProject({ project: { id: "kept", name: "kept across restarts" } });
    const pgPid = postmasterPid();
    expect(pgPid).toBeDefined();
    expect(await first.proc.stop("SIGTERM")).toBe(0);
    expect(first.proc.output()).toContain("stopped");
    expect(alive(pgPid as number)).toBe(false);

    const second = await start();
    expect((await second.admin.getProject({ id: "kept" })).name).toBe("kept across restarts");
    expect(await second.proc.stop("SIGINT")).toBe(0);
  });

  it("recovers after kill -9: the orphaned Postgres is stopped and the data is intact", async () => {
    const first = await start();
    await first.admin.registerProject({ project: { id: "survivor", name: "after kill -9" } });
    const orphan = postmasterPid() as number;
    await first.proc.stop("SIGKILL");
    expect(alive(orphan)).toBe(true);

    const second = await start();
    expect(alive(orphan)).toBe(false);
    expect((await second.admin.getProject({ id: "survivor" })).name).toBe("after kill -9");
    expect((await second.admin.getProject({ id: "kept" })).name).toBe("kept across restarts");
    expect(await second.proc.stop()).toBe(0);
  });

  it("reports every configuration problem and exits 2", async () => {
    const child = runPetrel(["serve", "--grpc-port", "abc", "--log-level", "loud"], {
      DATABASE_URL: "mysql://x",
    });
    let stderr = "";
    child.stderr?.on("data", (c: Buffer) => {
      stderr += c.toString();
    });
    expect(await exited(child)).toBe(2);
    expect(stderr).toContain("invalid configuration");
    expect(stderr).toContain('--grpc-port: "abc" is not a port');
    expect(stderr).toContain('--log-level: "loud" must be one of');
    expect(stderr).toContain("DATABASE_URL: must be a postgres:// or postgresql:// URL");
  });
});
