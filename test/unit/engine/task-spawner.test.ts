// Task processes started through the server's task spawner (task-spawner.ts, via runInProcessGroup): output of any
// size in order, concurrent tasks apart, start errors in node's words, aborts, and a spawner that dies mid-task (its
// tasks' groups killed, their runs told, the next task served by a new spawner).
import fs from "node:fs";
import os from "node:os";
import { describe, expect, it } from "vitest";
import { runInProcessGroup } from "../../../server/engine/plugins/process-group.js";
import { eventually } from "../../support/eventually.js";
import { alive, processesWith } from "../../support/processes.js";

const cwd = os.tmpdir();
const env = { PATH: process.env.PATH ?? "/usr/bin:/bin" };
const run = (
  script: string,
  signal = new AbortController().signal,
  onOutput?: (s: string, d: Buffer) => void,
) =>
  runInProcessGroup(["sh", "-c", script], {
    cwd,
    env,
    signal,
    graceMs: 200,
    ...(onOutput ? { onOutput } : {}),
  });

/** The spawner: this process's child running `node -e`. */
function spawnerPids(): number[] {
  return fs
    .readdirSync("/proc")
    .filter((d) => /^\d+$/.test(d))
    .flatMap((d) => {
      try {
        const stat = fs.readFileSync(`/proc/${d}/stat`, "latin1");
        const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
        const cmd = fs.readFileSync(`/proc/${d}/cmdline`, "latin1").split("\0");
        return ppid === process.pid && cmd[1] === "-e" && alive(Number(d)) ? [Number(d)] : [];
      } catch {
        return [];
      }
    });
}

describe("the task spawner", () => {
  it("passes output of any size in order, keeping the last MB of each stream", async () => {
    let seen = 0;
    const r = await run(
      "head -c 3000000 /dev/zero | tr '\\0' a; echo -n end; echo err >&2; exit 4",
      undefined,
      (s, d) => {
        if (s === "stdout") seen += d.length;
      },
    );
    expect(r.code).toBe(4);
    expect(seen).toBe(3_000_003);
    expect(r.stdout.length).toBe(1_000_000);
    expect(r.stdout.endsWith("aaaend")).toBe(true);
    expect(r.stderr).toBe("err\n");
  });

  it("keeps concurrent tasks apart, with their own cwd and environment", async () => {
    const results = await Promise.all(
      Array.from({ length: 16 }, (_, i) =>
        runInProcessGroup(["sh", "-c", 'sleep 0.0$N; echo "$N $(pwd)"'], {
          cwd,
          env: { ...env, N: String(i) },
          signal: new AbortController().signal,
          graceMs: 200,
        }),
      ),
    );
    results.forEach((r, i) => {
      expect(r.code).toBe(0);
      expect(r.stdout).toBe(`${i} ${fs.realpathSync(cwd)}\n`);
    });
  });

  it("reports a command that cannot start in node's words", async () => {
    const r = await runInProcessGroup(["no-such-command-xyz"], {
      cwd,
      env,
      signal: new AbortController().signal,
      graceMs: 200,
    });
    expect(r.code).toBeNull();
    expect(r.spawnError?.message).toBe("spawn no-such-command-xyz ENOENT");
  });

  it("stops a task's whole group on abort", async () => {
    const abort = new AbortController();
    const started = Date.now();
    const pending = run("sleep 30 & sleep 30; wait", abort.signal);
    await new Promise((r) => setTimeout(r, 200));
    abort.abort();
    const r = await pending;
    expect(r.exitSignal).toBe("SIGTERM");
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it("ends the runs of a spawner that died (their groups killed) and serves the next task with a new one", async () => {
    const marker = `spawner-test-${process.pid}-${Date.now()}`;
    const pending = runInProcessGroup(["sh", "-c", "sleep 30 & exec sleep 30"], {
      cwd,
      env: { ...env, MARKER: marker },
      signal: new AbortController().signal,
      graceMs: 200,
    });
    const [spawner] = await eventually(
      async () => spawnerPids(),
      (p) => p.length === 1,
    );
    const sleepers = await eventually(
      async () => processesWith(marker),
      (p) => p.length === 2,
    );
    process.kill(spawner as number, "SIGKILL");
    const r = await pending;
    expect(r.lost).toMatch(/spawner process exited/);
    await eventually(
      async () => sleepers.filter(alive),
      (p) => p.length === 0,
    );
    const next = await run("echo again");
    expect(next).toMatchObject({ code: 0, stdout: "again\n" });
    expect(spawnerPids()).toHaveLength(1);
    expect(spawnerPids()[0]).not.toBe(spawner);
  });
});
