// Keeps the embedded Postgres running: when its postmaster stops on its own (killed, out of disk, a crash), it is
// started again on the same data directory and port, with backoff. After a bounded number of failed attempts the
// supervisor gives up and says so; the server then exits for its own supervisor to restart it.
import type { ChildProcess } from "node:child_process";
import type { Logger } from "../logger.js";

export interface RestartPolicy {
  /** Attempts per outage before giving up. */
  readonly attempts: number;
  /** Wait before the first attempt; doubled after each failed one, up to maxDelayMs. */
  readonly firstDelayMs: number;
  readonly maxDelayMs: number;
  /** A restarted Postgres that does not accept connections within this time counts as a failed attempt. */
  readonly readyTimeoutMs: number;
  /** A Postgres that stops again sooner than this after a restart continues the same outage (no new attempts). */
  readonly stableMs: number;
}

/** About 35 s of waiting over 10 attempts, then give up. */
export const DEFAULT_RESTART_POLICY: RestartPolicy = {
  attempts: 10,
  firstDelayMs: 250,
  maxDelayMs: 5_000,
  readyTimeoutMs: 60_000,
  stableMs: 30_000,
};

export type EmbeddedPostgresEvent =
  /** The postmaster stopped on its own; restarts begin. */
  | { readonly kind: "exited"; readonly reason: string }
  /** It accepts connections again. */
  | { readonly kind: "restarted"; readonly attempt: number }
  /** Every attempt failed; it stays down. */
  | { readonly kind: "gave-up"; readonly error: Error };

export interface SupervisorHooks {
  /** Starts a postmaster and resolves once it accepts connections (stopping it if `signal` aborts first). */
  readonly launch: (signal: AbortSignal, readyTimeoutMs: number) => Promise<ChildProcess>;
  /** Runs before each restart with the postmaster that died (stale lock files). */
  readonly beforeRestart: (dead: ChildProcess) => void;
  /** Stops a running postmaster. */
  readonly terminate: (child: ChildProcess) => Promise<void>;
  /** The last lines a postmaster wrote (logged when it stops on its own). */
  readonly output: (child: ChildProcess) => string;
}

export function describeExit(code: number | null, signal: NodeJS.Signals | null): string {
  return signal !== null ? `was killed by ${signal}` : `exited with code ${code}`;
}

export class PostgresSupervisor {
  private child: ChildProcess;
  private stopping = false;
  private readonly abort = new AbortController();
  private restarting: Promise<void> | undefined;
  private readonly listeners = new Set<(e: EmbeddedPostgresEvent) => void>();
  /** Attempts used in the current outage, and when the last restart became ready. */
  private attemptsUsed = 0;
  private upSince = Date.now();

  constructor(
    first: ChildProcess,
    private readonly hooks: SupervisorHooks,
    private readonly logger: Logger,
    private readonly policy: RestartPolicy = DEFAULT_RESTART_POLICY,
  ) {
    this.child = first;
    this.watch(first);
  }

  /** Calls `listener` on every event until the returned function is called. */
  subscribe(listener: (e: EmbeddedPostgresEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Stops restarting, then stops the running postmaster (if any). */
  async stop(): Promise<void> {
    this.stopping = true;
    this.abort.abort();
    await this.restarting;
    await this.hooks.terminate(this.child);
  }

  /**
   * The process is exiting without a clean stop (a second signal, a fatal error): asks the postmaster for a fast
   * shutdown at once, which it completes on its own. Synchronous, for a process "exit" handler.
   */
  signalNow(): void {
    this.stopping = true;
    const c = this.child;
    if (c.exitCode === null && c.signalCode === null) c.kill("SIGINT");
  }

  private emit(e: EmbeddedPostgresEvent): void {
    for (const l of [...this.listeners]) {
      try {
        l(e);
      } catch (err) {
        this.logger.error("embedded Postgres event listener failed", { error: err });
      }
    }
  }

  private watch(child: ChildProcess): void {
    child.once("exit", (code, signal) => {
      if (this.stopping || this.child !== child) return;
      const reason = describeExit(code, signal);
      if (Date.now() - this.upSince >= this.policy.stableMs) this.attemptsUsed = 0;
      this.logger.error(`the embedded Postgres ${reason}; restarting it`, {
        pid: child.pid,
        lastOutput: this.hooks.output(child).split("\n").slice(-5),
      });
      this.emit({ kind: "exited", reason });
      this.restarting = this.restart(child);
    });
  }

  private async restart(dead: ChildProcess): Promise<void> {
    let delay = this.policy.firstDelayMs * 2 ** Math.min(this.attemptsUsed, 16);
    let lastError: unknown;
    while (this.attemptsUsed < this.policy.attempts) {
      await this.pause(Math.min(delay, this.policy.maxDelayMs));
      if (this.stopping) return;
      const attempt = ++this.attemptsUsed;
      try {
        this.hooks.beforeRestart(dead);
        const child = await this.hooks.launch(this.abort.signal, this.policy.readyTimeoutMs);
        if (this.stopping) {
          await this.hooks.terminate(child);
          return;
        }
        this.child = child;
        this.upSince = Date.now();
        this.watch(child);
        this.logger.info("the embedded Postgres is running again", { attempt, pid: child.pid });
        this.emit({ kind: "restarted", attempt });
        return;
      } catch (err) {
        if (this.stopping) return;
        lastError = err;
        this.logger.warn("restarting the embedded Postgres failed", {
          attempt,
          of: this.policy.attempts,
          error: err,
        });
      }
      delay *= 2;
    }
    const error = new Error(
      `the embedded Postgres could not be restarted (${this.policy.attempts} attempts failed)`,
      { cause: lastError },
    );
    this.logger.error(error.message, { error: lastError });
    this.emit({ kind: "gave-up", error });
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      if (this.abort.signal.aborted) return resolve();
      const done = () => {
        clearTimeout(timer);
        this.abort.signal.removeEventListener("abort", done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.abort.signal.addEventListener("abort", done, { once: true });
    });
  }
}
