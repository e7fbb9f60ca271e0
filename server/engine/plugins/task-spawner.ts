// Task processes are started by a small helper process, not by the server itself. Starting a process forks the
// starting process first, and the cost of a fork grows with the forking process's memory (page tables): the server
// spent 2.5-3 ms of blocked event loop per task in spawn() (the benchmark's 1-node process task: spawn() p50 2.84 ms
// in a 130 MB server vs 0.8 ms in a 50 MB node process). The helper is node running SPAWNER (below): it reads one JSON
// request per line on its stdin, starts the process exactly as the server did (its own process group, stdout and
// stderr piped), and reports on its stdout in frames: the pid, the output as it comes, exit, close or a start error.
// - The server keeps signalling the task's process group itself (same user), and its watchdog (process-group.ts)
//   still holds every group: the helper is only the tasks' parent.
// - The helper exits when its stdin closes (the server is gone); should it die first, the groups of the tasks it
//   started are killed and their runs end with an error (a system failure, retried), and the next task starts a new
//   helper.
import { type ChildProcess, spawn } from "node:child_process";

/** The helper's program (CommonJS, node -e). Frames: type (1 byte), task id (4), length (4), payload. */
export const SPAWNER = `
const { spawn } = require("node:child_process");
const out = process.stdout;
const frame = (type, id, payload) => {
  const body = Buffer.isBuffer(payload) ? payload : Buffer.from(payload);
  const head = Buffer.allocUnsafe(9);
  head[0] = type; head.writeUInt32BE(id, 1); head.writeUInt32BE(body.length, 5);
  out.write(Buffer.concat([head, body]));
};
const start = (r) => {
  let child;
  try {
    child = spawn(r.cmd, r.args, { cwd: r.cwd, env: r.env, stdio: ["ignore", "pipe", "pipe"], detached: true });
  } catch (e) {
    frame(6, r.id, JSON.stringify({ message: e.message }));
    return;
  }
  frame(1, r.id, String(child.pid ?? ""));
  child.stdout.on("data", (d) => frame(2, r.id, d));
  child.stderr.on("data", (d) => frame(3, r.id, d));
  child.once("exit", (code, signal) => frame(4, r.id, JSON.stringify({ code, signal })));
  child.once("error", (e) => frame(6, r.id, JSON.stringify({ message: e.message })));
  child.once("close", (code, signal) => frame(5, r.id, JSON.stringify({ code, signal })));
};
let pending = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (s) => {
  pending += s;
  for (let i = pending.indexOf("\\n"); i >= 0; i = pending.indexOf("\\n")) {
    const line = pending.slice(0, i);
    pending = pending.slice(i + 1);
    start(JSON.parse(line));
  }
});
process.stdin.on("end", () => process.exit(0));
`;

const FRAME = { pid: 1, stdout: 2, stderr: 3, exit: 4, close: 5, error: 6 } as const;
const HEAD = 9;

/** What the helper reports about one task. */
export interface SpawnEvents {
  /** The process started (undefined pid: it could not). */
  pid(pid: number | undefined): void;
  output(stream: "stdout" | "stderr", data: Buffer): void;
  exit(): void;
  close(code: number | null, signal: NodeJS.Signals | null): void;
  /** The process could not start (`message` as node words it), or the helper died (`lost`). */
  error(message: string, lost: boolean): void;
}

export interface SpawnRequest {
  readonly cmd: string;
  readonly args: readonly string[];
  readonly cwd: string;
  readonly env: Record<string, string>;
}

class Spawner {
  private child: ChildProcess | undefined;
  private nextId = 1;
  private readonly tasks = new Map<number, SpawnEvents>();
  private pending: Buffer = Buffer.alloc(0);

  start(request: SpawnRequest, events: SpawnEvents): void {
    const id = this.nextId++;
    if (this.nextId > 0xffff_ffff) this.nextId = 1;
    const child = this.child ?? this.launch();
    if (child === undefined) {
      events.error("the task spawner process could not be started", true);
      return;
    }
    this.tasks.set(id, events);
    this.hold();
    child.stdin?.write(`${JSON.stringify({ id, ...request })}\n`);
  }

  /** The helper's output keeps this process alive while it runs tasks (as their own pipes would), and only then. */
  private hold(): void {
    const out = this.child?.stdout as unknown as { ref?: () => void; unref?: () => void } | null | undefined;
    if (this.tasks.size > 0) out?.ref?.();
    else out?.unref?.();
  }

  private launch(): ChildProcess | undefined {
    let child: ChildProcess;
    try {
      child = spawn(process.execPath, ["-e", SPAWNER], {
        env: { PATH: process.env.PATH ?? "/usr/bin:/bin" },
        stdio: ["pipe", "pipe", "inherit"],
      });
    } catch {
      return undefined;
    }
    this.child = child;
    this.pending = Buffer.alloc(0);
    child.stdin?.on("error", () => undefined); // the helper is gone: its exit ends its tasks
    child.stdout?.on("data", (c: Buffer) => this.read(c));
    child.once("error", () => this.lost(child));
    child.once("exit", () => this.lost(child));
    // The helper keeps this process alive only while it runs tasks (hold()).
    child.unref();
    for (const s of [child.stdin, child.stdout]) (s as unknown as { unref?: () => void } | null)?.unref?.();
    return child;
  }

  /** The helper died: its tasks' groups are killed by their runs (error with `lost`), the next task starts anew. */
  private lost(child: ChildProcess): void {
    if (this.child !== child) return;
    this.child = undefined;
    const tasks = [...this.tasks.values()];
    this.tasks.clear();
    for (const t of tasks) t.error("the task spawner process exited while the task ran", true);
  }

  private read(chunk: Buffer): void {
    let buf = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    while (buf.length >= HEAD) {
      const length = buf.readUInt32BE(5);
      if (buf.length < HEAD + length) break;
      this.dispatch(buf[0] as number, buf.readUInt32BE(1), buf.subarray(HEAD, HEAD + length));
      buf = buf.subarray(HEAD + length);
    }
    this.pending = Buffer.from(buf);
  }

  private dispatch(type: number, id: number, payload: Buffer): void {
    const t = this.tasks.get(id);
    if (t === undefined) return;
    switch (type) {
      case FRAME.pid: {
        const pid = Number(payload.toString());
        t.pid(payload.length > 0 && Number.isInteger(pid) ? pid : undefined);
        return;
      }
      case FRAME.stdout:
      case FRAME.stderr:
        t.output(type === FRAME.stdout ? "stdout" : "stderr", Buffer.from(payload));
        return;
      case FRAME.exit:
        t.exit();
        return;
      case FRAME.close: {
        this.tasks.delete(id);
        this.hold();
        const { code, signal } = JSON.parse(payload.toString()) as {
          code: number | null;
          signal: NodeJS.Signals | null;
        };
        t.close(code, signal);
        return;
      }
      case FRAME.error:
        this.tasks.delete(id);
        this.hold();
        t.error((JSON.parse(payload.toString()) as { message: string }).message, false);
        return;
    }
  }
}

/** This server's spawner (started at the first task). */
export const taskSpawner = new Spawner();
