// Task processes run in a process group of their own that dies with the server that owns it, even when the server
// is killed with SIGKILL: otherwise a crashed replica's tasks run on while the attempt is taken over and run again.
//
// Node has no prctl(PR_SET_PDEATHSIG) and no subreaper, and `setpriv --pdeathsig` would reach only the first
// process, not what it forks (`sh -c` pipelines, python subprocesses). So the server keeps one watchdog: a tiny POSIX
// sh program (nothing beyond /bin/sh is needed), started at the first task, that holds a pipe from the server on its
// stdin. The server writes each task's process group id to it when the task starts ("+ <pgid>") and again once the
// group is finished ("- <pgid>"). If the pipe reaches EOF, the server is gone (the kernel closes a dead process's
// descriptors): the watchdog SIGKILLs every group still listed.
// - The task itself is spawned in a group of its own (`detached`), so its parent, stdout/stderr capture, exit codes
//   and signals are plain; aborts and timeouts signal the whole group.
// - The server's end of the pipe is close-on-exec (libuv creates it so), so no other child keeps it open and hides
//   the server's death; tasks never see the watchdog's descriptors.
// - The watchdog is the server's child (reaped by it, no orphans or zombies even when the server is PID 1), runs in
//   a session of its own and ignores HUP/INT/TERM, so signals meant for the server or the tasks don't disarm it.
//   Should it die anyway, the next line written starts a new one, told every group still running.
// - When the task's main process exits, whatever it left in its group is killed, as when a container's init exits.
// - A task process that leaves its group on purpose (setsid, setpgid) escapes, as it would escape any group kill.
// - Left open: the server dying in the microseconds between spawning the task and handing its group id over.
// One watchdog for all tasks, not one per task: a watchdog spawned per task delayed its start by about 1.3 ms and
// its end by 3-5 ms on 2 busy cores.
import { type ChildProcess, spawn } from "node:child_process";
import { taskSpawner } from "./task-spawner.js";

/** The watchdog: `sh -c WATCHDOG petrel-watchdog`, fed "+ <pgid>" and "- <pgid>" lines on its stdin. */
export const WATCHDOG = [
  "trap '' HUP INT TERM",
  'groups=""',
  "while read -r op id; do",
  "  case $op in",
  '    +) groups="$groups $id" ;;',
  '    -) rest=""; for g in $groups; do [ "$g" = "$id" ] || rest="$rest $g"; done; groups=$rest ;;',
  "  esac",
  "done",
  'for g in $groups; do kill -s KILL -- "-$g" 2>/dev/null; done',
].join("\n");

const OUTPUT_LIMIT = 1_000_000;

export interface GroupResult {
  /** The exit code; null when the main process was ended by a signal or could not start. */
  readonly code: number | null;
  /** The signal that ended the main process, if one did. */
  readonly exitSignal?: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly spawnError?: Error;
  /** The task spawner died while the task ran (its group was killed): why. */
  readonly lost?: string;
}

export interface GroupOptions {
  readonly cwd: string;
  readonly env: Record<string, string>;
  /** Aborting sends SIGTERM to the group, then SIGKILL after `graceMs`. */
  readonly signal: AbortSignal;
  readonly graceMs: number;
  /** Gets the output as it comes (all of it; the result keeps only the last MB of each stream). */
  readonly onOutput?: (stream: "stdout" | "stderr", data: Buffer) => void;
}

/** Signals a process group; a group that is already gone is fine. */
export function signalGroup(pgid: number | undefined, signal: NodeJS.Signals): void {
  if (pgid === undefined) return;
  try {
    process.kill(-pgid, signal);
  } catch {
    // the group has exited
  }
}

function groupExists(pgid: number | undefined): boolean {
  if (pgid === undefined) return false;
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

/** This process's watchdog (see the top of this file): started at the first group, restarted should it die. */
class Watchdog {
  private child: ChildProcess | undefined;
  private readonly groups = new Set<number>();

  watch(pgid: number): void {
    this.groups.add(pgid);
    this.send(`+ ${pgid}`);
  }

  /** The group is finished: the watchdog forgets it. */
  release(pgid: number): void {
    if (this.groups.delete(pgid)) this.send(`- ${pgid}`);
  }

  private send(line: string): void {
    if (this.child === undefined) this.start();
    else this.child.stdin?.write(`${line}\n`);
  }

  /** Starts the watchdog and tells it every group running now. */
  private start(): void {
    let child: ChildProcess;
    try {
      child = spawn("/bin/sh", ["-c", WATCHDOG, "petrel-watchdog"], {
        env: { PATH: "/usr/bin:/bin" },
        stdio: ["pipe", "ignore", "ignore"],
        detached: true,
      });
    } catch {
      return; // tasks run unwatched
    }
    child.once("error", () => undefined); // no /bin/sh: tasks run unwatched
    child.stdin?.on("error", () => undefined); // the watchdog is gone: its exit restarts it
    child.once("exit", () => {
      if (this.child !== child) return;
      this.child = undefined;
      if (this.groups.size > 0) this.start();
    });
    // The watchdog never keeps this process alive.
    child.unref();
    (child.stdin as unknown as { unref?: () => void } | null)?.unref?.();
    this.child = child;
    const lines = [...this.groups].map((g) => `+ ${g}\n`).join("");
    if (lines !== "") child.stdin?.write(lines);
  }
}

const watchdog = new Watchdog();

/**
 * Runs argv in a new process group watched by a watchdog, capturing stdout/stderr (the last MB of each). The process
 * is started by the task spawner (task-spawner.ts). Resolves once the main process exited and its output is closed;
 * the group is gone (or being killed after an abort) then, or once the spawner died while the task ran (`lost`: its
 * group is killed).
 */
export function runInProcessGroup(argv: readonly string[], opts: GroupOptions): Promise<GroupResult> {
  return new Promise((resolve) => {
    const [cmd = "", ...args] = argv;
    let pgid: number | undefined;
    let stdout = "";
    let stderr = "";
    // Once finished, the group is never signalled again (its id could be reused).
    let finished = false;
    let exited = false;
    const finish = () => {
      if (finished) return;
      finished = true;
      signalGroup(pgid, "SIGKILL");
      if (pgid !== undefined) watchdog.release(pgid);
    };
    const abort = () => {
      if (finished || pgid === undefined) return; // before the pid came: signalled when it does
      signalGroup(pgid, "SIGTERM");
      setTimeout(finish, opts.graceMs).unref();
    };
    const done = () => opts.signal.removeEventListener("abort", abort);
    taskSpawner.start(
      { cmd, args, cwd: opts.cwd, env: opts.env },
      {
        pid(pid) {
          pgid = pid;
          if (pid === undefined) return;
          watchdog.watch(pid);
          if (opts.signal.aborted) abort();
        },
        output(stream, data) {
          opts.onOutput?.(stream, data);
          if (stream === "stdout") stdout = (stdout + data.toString()).slice(-OUTPUT_LIMIT);
          else stderr = (stderr + data.toString()).slice(-OUTPUT_LIMIT);
        },
        // The main process is gone: what it left behind is killed now, or after an abort's grace period (if anything
        // is left: an empty group is finished at once, so that its id is not signalled after it may have been reused).
        exit() {
          exited = true;
          if (!opts.signal.aborted || !groupExists(pgid)) finish();
        },
        close(code, exitSignal) {
          done();
          if (!exited) finish();
          resolve({ code, exitSignal, stdout, stderr });
        },
        error(message, lost) {
          done();
          if (pgid !== undefined) finish();
          resolve(
            lost
              ? { code: null, stdout, stderr, lost: message }
              : { code: null, stdout, stderr, spawnError: new Error(message) },
          );
        },
      },
    );
    if (!opts.signal.aborted) opts.signal.addEventListener("abort", abort, { once: true });
  });
}
