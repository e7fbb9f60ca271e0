// One postmaster process of the embedded Postgres: started, waited on until it accepts connections, stopped; and
// the lock files a postmaster that died leaves behind.
import { type ChildProcess, spawn } from "node:child_process";
import fs from "node:fs";
import type { Logger } from "../logger.js";
import { describeExit } from "./embedded-postgres-supervisor.js";

export interface PostmasterSpec {
  readonly postgres: string;
  readonly flags: readonly string[];
  /** The unprivileged account to run as (when this process is root). */
  readonly account: { readonly uid: number; readonly gid: number } | undefined;
}

export interface StartOptions {
  readonly signal?: AbortSignal;
  readonly readyTimeoutMs?: number;
}

const READY = "database system is ready to accept connections";
/** How long a fast shutdown (SIGINT) may take before an immediate one (SIGQUIT). */
const SHUTDOWN_GRACE_MS = 30_000;
const TAIL_CHARS = 4_000;
const tails = new WeakMap<ChildProcess, string>();

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** The last lines the postmaster wrote (its reason to stop, typically). */
export function outputOf(child: ChildProcess): string {
  return (tails.get(child) ?? "").trim();
}

/** Why a postmaster did not start, on one line: its FATAL/PANIC lines (else its last lines). */
function failureOf(child: ChildProcess): string {
  const lines = outputOf(child).split("\n");
  const fatal = lines.filter((l) => / (FATAL|PANIC): /.test(l));
  return (fatal.length > 0 ? fatal : lines.slice(-3)).join(" | ");
}

/** Starts a postmaster and resolves once it accepts connections; on failure it is stopped and the error thrown. */
export async function startPostmaster(
  spec: PostmasterSpec,
  logger: Logger,
  opts: StartOptions = {},
): Promise<ChildProcess> {
  // Its own process group, so a Ctrl-C in the terminal reaches Petrel (which drains) and not Postgres.
  const child = spawn(spec.postgres, [...spec.flags], {
    detached: true,
    stdio: ["ignore", "ignore", "pipe"],
    env: { LC_ALL: "C", LC_MESSAGES: "C" },
    ...(spec.account ?? {}),
  });
  tails.set(child, "");
  // Spawning itself can fail (the binary gone, no memory): waitReady reports it; this keeps it from being thrown.
  child.on("error", (err) => logger.warn("postgres process error", { error: err }));
  child.stderr?.on("data", (c: Buffer) => {
    const text = c.toString("utf8");
    tails.set(child, ((tails.get(child) ?? "") + text).slice(-TAIL_CHARS));
    logger.debug(`postgres: ${text.trim()}`);
  });
  try {
    await waitReady(child, opts);
    return child;
  } catch (err) {
    await stopPostmaster(child);
    throw err;
  }
}

function waitReady(child: ChildProcess, opts: StartOptions): Promise<void> {
  return new Promise((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    const finish = (err?: Error) => {
      clearTimeout(timer);
      child.stderr?.off("data", onData);
      child.off("exit", onExit);
      child.off("error", finish);
      opts.signal?.removeEventListener("abort", onAbort);
      if (err === undefined) resolve();
      else reject(err);
    };
    const onData = () => {
      if (outputOf(child).includes(READY)) finish();
    };
    const onExit = (code: number | null, signal: NodeJS.Signals | null) =>
      finish(new Error(`postgres ${describeExit(code, signal)} during start: ${failureOf(child)}`));
    const onAbort = () => finish(new Error("postgres start abandoned: shutting down"));
    child.stderr?.on("data", onData);
    child.once("exit", onExit);
    child.once("error", finish);
    const limit = opts.readyTimeoutMs;
    if (limit !== undefined) {
      timer = setTimeout(
        () =>
          finish(new Error(`postgres did not accept connections within ${limit} ms: ${failureOf(child)}`)),
        limit,
      );
    }
    if (opts.signal?.aborted === true) onAbort();
    else opts.signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** A fast shutdown (SIGINT), then an immediate one (SIGQUIT) should it take too long. */
export async function stopPostmaster(child: ChildProcess): Promise<void> {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill("SIGINT");
  let timer: NodeJS.Timeout | undefined;
  const slow = await Promise.race([
    exited.then(() => false),
    new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(true), SHUTDOWN_GRACE_MS);
    }),
  ]);
  clearTimeout(timer);
  if (slow) {
    child.kill("SIGQUIT");
    await exited;
  }
}

/**
 * Deals with the lock files (`postmaster.pid`, the socket's `.lock`) a postmaster that died left behind. Postgres
 * itself takes them for stale when their pid is gone, and uses the shared-memory key in `postmaster.pid` to refuse
 * to start while a backend of the dead postmaster still runs, so they are normally kept. Only when the pid now
 * belongs to another process is a file removed, lest Postgres take that process for a running postmaster.
 */
export function clearStaleLocks(files: readonly string[], dead: ChildProcess, logger: Logger): void {
  for (const file of files) {
    let pid: number;
    try {
      pid = Number.parseInt(fs.readFileSync(file, "utf8").split("\n")[0] ?? "", 10);
    } catch {
      continue; // no such file
    }
    if (pid === dead.pid && isAlive(pid)) {
      logger.warn("removing a stale Postgres lock file whose pid another process now has", { file, pid });
      fs.rmSync(file, { force: true });
    }
  }
}
