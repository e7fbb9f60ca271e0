// Worker: runs TypeScript function tasks for Petrel. It long-polls WorkerService for attempts of the tasks it
// knows, heartbeats while a function runs (and aborts it when the attempt is cancelled), and completes with the
// outputs or a USER error carrying the message and stack.
import { create } from "@bufbuild/protobuf";
import { ExecutionError_ErrorKind, ExecutionErrorSchema } from "../gen/flyteidl/core/execution_pb.js";
import type { TaskLease } from "../gen/petrel/v1/worker_pb.js";
import type { SynchronousClient } from "./synchronous-client.js";
import { fromLiteralMap, toLiteralMap } from "./type-engine.js";

export type TaskFunction = (inputs: Record<string, unknown>, ctx: { signal: AbortSignal }) => unknown;

export interface WorkerOptions {
  readonly client: SynchronousClient;
  /** Task name → function. Each task's template type must be "worker". */
  readonly tasks: Readonly<Record<string, TaskFunction>>;
  readonly concurrency?: number;
  readonly workerId?: string;
  readonly pollWaitMs?: number;
}

export class Worker {
  private running = false;
  private loops: Promise<void>[] = [];
  private readonly abort = new AbortController();

  constructor(private readonly opts: WorkerOptions) {}

  start(): this {
    this.running = true;
    this.loops = Array.from({ length: this.opts.concurrency ?? 4 }, () => this.loop());
    return this;
  }

  async stop(): Promise<void> {
    this.running = false;
    this.abort.abort();
    await Promise.allSettled(this.loops);
  }

  private async loop(): Promise<void> {
    const names = Object.keys(this.opts.tasks);
    while (this.running) {
      try {
        const res = await this.opts.client.pollTask(
          {
            workerId: this.opts.workerId ?? "ts-worker",
            taskNames: names,
            waitMs: this.opts.pollWaitMs ?? 5_000,
          },
          { signal: this.abort.signal },
        );
        if (res.lease !== undefined) await this.run(res.lease);
      } catch {
        if (!this.running) return;
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  }

  private async run(lease: TaskLease): Promise<void> {
    const fn = this.opts.tasks[lease.template?.id?.name ?? ""];
    const cancel = new AbortController();
    const beat = setInterval(
      () => {
        this.opts.client.heartbeat({ leaseId: lease.leaseId }).then(
          (r) => r.cancelled && cancel.abort(),
          () => undefined,
        );
      },
      Math.max(100, Math.floor(lease.leaseMs / 3)),
    );
    try {
      if (fn === undefined)
        throw new Error(`this worker has no function for task ${lease.template?.id?.name}`);
      const result = await fn(fromLiteralMap(lease.inputs), { signal: cancel.signal });
      const types = Object.fromEntries(
        Object.entries(lease.template?.interface?.outputs?.variables ?? {}).map(([k, v]) => [k, v.type]),
      );
      const outputs = toLiteralMap((result ?? {}) as Record<string, unknown>, types);
      await this.opts.client.completeTask({
        leaseId: lease.leaseId,
        result: { case: "outputs", value: outputs },
      });
    } catch (err) {
      if (cancel.signal.aborted) return;
      const e = err instanceof Error ? err : new Error(String(err));
      const error = create(ExecutionErrorSchema, {
        code: e.name || "Error",
        message: `${e.message}\n${e.stack ?? ""}`.trim(),
        kind: ExecutionError_ErrorKind.USER,
      });
      await this.opts.client
        .completeTask({ leaseId: lease.leaseId, result: { case: "error", value: error } })
        .catch(() => undefined);
    } finally {
      clearInterval(beat);
    }
  }
}
