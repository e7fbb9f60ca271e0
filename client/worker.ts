// Worker: runs TypeScript function tasks for Petrel. It long-polls WorkerService for attempts of the tasks it
// knows, heartbeats while a function runs (and aborts it when the attempt is cancelled), and completes with the
// outputs or a USER error carrying the message and stack. As flytekit does, file and directory inputs are
// downloaded first (the function gets local paths) and outputs given as local paths are uploaded through the
// DataProxy of the same connection; a transfer that fails is a SYSTEM error (retryable).
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { create } from "@bufbuild/protobuf";
import { ExecutionError_ErrorKind, ExecutionErrorSchema } from "../gen/flyteidl/core/execution_pb.js";
import type { LiteralMap } from "../gen/flyteidl/core/literals_pb.js";
import type { TaskLease } from "../gen/petrel/v1/worker_pb.js";
import { basenameOf, localizeBlobs, localPathOf } from "./blob-downloads.js";
import { uploadLocalBlobs } from "./blob-uploads.js";
import type { TaskContext } from "./dsl/tasks.js";
import { BlobTransferError, PetrelError } from "./errors.js";
import type { SynchronousClient } from "./synchronous-client.js";
import { fromLiteralMap, toLiteralMap } from "./type-engine.js";

export type TaskFunction = (inputs: Record<string, unknown>, ctx: TaskContext) => unknown;

/** A failure of the worker's own data transfers, not of the task's code. */
class TransferFailure extends Error {}

async function transfer<T>(what: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (err instanceof BlobTransferError || err instanceof PetrelError)
      throw new TransferFailure(`${what}: ${err.message}`, { cause: err });
    throw err;
  }
}

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
    let scratch: string | undefined;
    try {
      scratch = await fs.promises.mkdtemp(path.join(os.tmpdir(), "petrel-task-"));
      if (fn === undefined)
        throw new Error(`this worker has no function for task ${lease.template?.id?.name}`);
      const inputs = await this.localInputs(lease.inputs, path.join(scratch, "inputs"), cancel.signal);
      const workDir = path.join(scratch, "work");
      await fs.promises.mkdir(workDir);
      const result = await fn(fromLiteralMap(inputs), { signal: cancel.signal, workDir });
      const types = Object.fromEntries(
        Object.entries(lease.template?.interface?.outputs?.variables ?? {}).map(([k, v]) => [k, v.type]),
      );
      const outputs = toLiteralMap((result ?? {}) as Record<string, unknown>, types);
      const execution = lease.taskExecutionId?.nodeExecutionId?.executionId;
      await transfer("uploading outputs", () =>
        uploadLocalBlobs(
          this.opts.client,
          { project: execution?.project ?? "", domain: execution?.domain ?? "" },
          outputs.literals,
          { signal: cancel.signal },
        ),
      );
      await this.opts.client.completeTask({
        leaseId: lease.leaseId,
        result: { case: "outputs", value: outputs },
      });
    } catch (err) {
      if (cancel.signal.aborted) return;
      const e = err instanceof Error ? err : new Error(String(err));
      const system = e instanceof TransferFailure;
      const error = create(ExecutionErrorSchema, {
        code: system ? "TransferFailed" : e.name || "Error",
        message: system ? e.message : `${e.message}\n${e.stack ?? ""}`.trim(),
        kind: system ? ExecutionError_ErrorKind.SYSTEM : ExecutionError_ErrorKind.USER,
      });
      await this.opts.client
        .completeTask({ leaseId: lease.leaseId, result: { case: "error", value: error } })
        .catch(() => undefined);
    } finally {
      clearInterval(beat);
      if (scratch !== undefined) await fs.promises.rm(scratch, { recursive: true, force: true });
    }
  }

  /** The inputs with every file and directory downloaded under `dir` (a file keeps its remote name). */
  private localInputs(inputs: LiteralMap | undefined, dir: string, signal: AbortSignal): Promise<LiteralMap> {
    return transfer("downloading inputs", () =>
      localizeBlobs(
        this.opts.client,
        inputs,
        (where, uri, multipart) =>
          multipart ? localPathOf(dir, where) : path.join(localPathOf(dir, where), basenameOf(uri)),
        { signal },
      ),
    );
  }
}
