// Compiles workflows on a worker thread, one job at a time: a big workflow (thousands of nodes) takes the compiler
// hundreds of milliseconds, which on the server's event loop would stall every other call. The worker starts on
// first use, is not kept alive for its own sake, and is replaced when it crashes or runs over COMPILE_TIMEOUT_MS.
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import type { WorkflowSpec } from "../../gen/flyteidl/admin/workflow_pb.js";
import type { TaskTemplate } from "../../gen/flyteidl/core/tasks_pb.js";
import { AppError, Code, internal } from "../errors.js";
import type { LaunchPlanInterface } from "./interfaces.js";

export interface CompileJob {
  readonly id: number;
  readonly spec: WorkflowSpec;
  readonly deps: {
    readonly tasks: readonly TaskTemplate[];
    readonly launchPlans: readonly LaunchPlanInterface[];
  };
}

/** The encoded closure, Flyte's formatted compile errors, or a compiler crash (a bug: logged, never shown). */
export type CompileReply =
  | { readonly id: number; readonly closure: Uint8Array }
  | { readonly id: number; readonly errors: string }
  | { readonly id: number; readonly crash: string };

export type CompileOutcome = { readonly closure: Uint8Array } | { readonly errors: string };

/** Longer than any real workflow takes; past it the worker is replaced and the call fails. */
const COMPILE_TIMEOUT_MS = 60_000;

interface Pending {
  readonly resolve: (r: CompileOutcome) => void;
  readonly reject: (err: unknown) => void;
}

/** The worker module next to this one: TypeScript sources run through tsx's loader, built JavaScript as is. */
function startWorker(): Worker {
  const self = fileURLToPath(import.meta.url);
  const url = new URL(`./compile-worker${path.extname(self)}`, import.meta.url);
  if (!self.endsWith(".ts")) return new Worker(url);
  // Resolved from here: an eval'd worker resolves bare specifiers from the working directory, which may be anywhere.
  const tsx = import.meta.resolve("tsx/esm/api");
  const boot = `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(url.href)}); })`;
  return new Worker(boot, { eval: true });
}

export class CompilePool {
  private worker: Worker | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  private queue: Promise<unknown> = Promise.resolve();

  /** Compiles on the worker; jobs run one after another. */
  compile(spec: WorkflowSpec, deps: CompileJob["deps"]): Promise<CompileOutcome> {
    const run = this.queue.then(() => this.run(spec, deps));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private run(spec: WorkflowSpec, deps: CompileJob["deps"]): Promise<CompileOutcome> {
    const worker = this.ensureWorker();
    const id = ++this.nextId;
    return new Promise<CompileOutcome>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.replace(
          new AppError(
            Code.ResourceExhausted,
            `compiling the workflow took longer than ${COMPILE_TIMEOUT_MS} ms`,
          ),
        );
      }, COMPILE_TIMEOUT_MS);
      this.pending.set(id, {
        resolve: (r) => {
          clearTimeout(timer);
          resolve(r);
        },
        reject: (err) => {
          clearTimeout(timer);
          reject(err);
        },
      });
      worker.ref();
      worker.postMessage({ id, spec, deps } satisfies CompileJob);
    });
  }

  private ensureWorker(): Worker {
    if (this.worker !== undefined) return this.worker;
    const worker = startWorker();
    worker.on("message", (reply: CompileReply) => {
      const p = this.pending.get(reply.id);
      this.pending.delete(reply.id);
      if (this.pending.size === 0) worker.unref(); // an idle worker does not keep the process alive
      if ("crash" in reply) p?.reject(internal("the workflow compiler failed", new Error(reply.crash)));
      else p?.resolve("closure" in reply ? { closure: reply.closure } : { errors: reply.errors });
    });
    worker.on("error", (err) => this.replace(internal("the workflow compiler failed", err)));
    worker.on("exit", () => {
      if (this.worker === worker) this.replace(internal("the workflow compiler stopped"));
    });
    worker.unref();
    this.worker = worker;
    return worker;
  }

  /** Fails what is pending and drops the worker (the next job starts a new one). */
  private replace(err: unknown): void {
    const worker = this.worker;
    this.worker = undefined;
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
    void worker?.terminate();
  }

  async stop(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    for (const p of this.pending.values()) p.reject(new AppError(Code.Unavailable, "the server is stopping"));
    this.pending.clear();
    await worker?.terminate();
  }
}
