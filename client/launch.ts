// Launching one execution for `remote.execute`: resolve the target, check and convert the inputs, upload local files,
// create the execution, serve the DSL's TypeScript tasks from this process while it runs, wait with progress.
import type { MessageInitShape } from "@bufbuild/protobuf";
import {
  type ExecutionCreateRequestSchema,
  ExecutionMetadata_ExecutionMode,
} from "../gen/flyteidl/admin/execution_pb.js";
import type { Identifier } from "../gen/flyteidl/core/identifier_pb.js";
import type { LiteralMap } from "../gen/flyteidl/core/literals_pb.js";
import { uploadLocalBlobs } from "./blob-uploads.js";
import { ExecutionHandle, type WaitOptions } from "./execution-handle.js";
import { hasProgressCallbacks } from "./progress.js";
import type { SynchronousClient } from "./synchronous-client.js";
import { type ExecuteTarget, type Resolver, resolveTarget } from "./targets.js";
import { TypeMismatchError, toLiteralMap } from "./type-engine.js";
import { type TaskFunction, Worker } from "./worker.js";

export interface ExecuteOptions extends Omit<WaitOptions, "pollIntervalMs"> {
  /**
   * Wait until the execution finishes before returning (at most `timeoutMs`). The progress callbacks (`onRun`,
   * `onNode`, `onTask`, `onProgress`: see `ExecutionHandle.wait`) imply it.
   */
  readonly wait?: boolean;
  readonly name?: string;
  readonly namePrefix?: string;
  readonly labels?: Record<string, string>;
  readonly annotations?: Record<string, string>;
  readonly envs?: Record<string, string>;
  readonly overwriteCache?: boolean;
  readonly maxParallelism?: number;
  /** DSL targets: the version to register under (default: derived from the content). */
  readonly version?: string;
  /**
   * DSL targets: run the workflow's TypeScript function tasks in this process until the execution finishes
   * (default true; set false when workers serve them elsewhere).
   */
  readonly serveTasks?: boolean;
}

/** The execution's name: given, `<prefix>-<19 hex>`, or empty (the server picks one). */
export function executionName(opts: ExecuteOptions): string {
  if (opts.name !== undefined) return opts.name;
  if (opts.namePrefix === undefined) return "";
  return `${opts.namePrefix}-${crypto.randomUUID().replace(/-/g, "").slice(0, 19)}`;
}

export function executionRequest(
  where: { readonly project: string; readonly domain: string },
  launchPlan: Identifier,
  inputs: LiteralMap,
  opts: ExecuteOptions,
): MessageInitShape<typeof ExecutionCreateRequestSchema> {
  return {
    project: where.project,
    domain: where.domain,
    name: executionName(opts),
    inputs,
    spec: {
      launchPlan,
      metadata: { mode: ExecutionMetadata_ExecutionMode.MANUAL },
      ...(opts.labels === undefined ? {} : { labels: { values: opts.labels } }),
      ...(opts.annotations === undefined ? {} : { annotations: { values: opts.annotations } }),
      ...(opts.envs === undefined
        ? {}
        : { envs: { values: Object.entries(opts.envs).map(([key, value]) => ({ key, value })) } }),
      overwriteCache: opts.overwriteCache === true,
      maxParallelism: opts.maxParallelism ?? 0,
    },
  };
}

/** The TypeScript function tasks this process serves while its executions run. */
export class TaskServing {
  private readonly workers = new Set<Worker>();

  constructor(private readonly client: SynchronousClient) {}

  serve(functions: ReadonlyMap<string, unknown>): Worker {
    const worker = new Worker({
      client: this.client,
      tasks: Object.fromEntries(functions) as Record<string, TaskFunction>,
      pollWaitMs: 1_000,
    }).start();
    this.workers.add(worker);
    return worker;
  }

  async unserve(worker: Worker): Promise<void> {
    if (this.workers.delete(worker)) await worker.stop();
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.workers].map((w) => this.unserve(w)));
  }
}

interface Launcher extends Resolver {
  readonly client: SynchronousClient;
  readonly project: string;
  readonly domain: string;
}

const isWaiting = (o: ExecuteOptions) =>
  o.wait === true || o.onProgress !== undefined || hasProgressCallbacks(o) || o.timeoutMs !== undefined;

/** What `FriendlyRemote.execute` does (see there). */
export async function launch(
  remote: Launcher,
  tasks: TaskServing,
  target: ExecuteTarget,
  inputs: Record<string, unknown>,
  opts: ExecuteOptions,
): Promise<ExecutionHandle<object>> {
  const resolved = await resolveTarget(remote, target, opts.version);
  const literals = toLiteralMap(inputs, resolved.types);
  const missing = [...resolved.required].filter((k) => !(k in inputs));
  if (missing.length > 0)
    throw new TypeMismatchError(
      `missing required input${missing.length > 1 ? "s" : ""} ${missing.map((m) => `"${m}"`).join(", ")}`,
    );
  await uploadLocalBlobs(remote.client, remote, literals.literals);
  const worker =
    resolved.functions.size > 0 && opts.serveTasks !== false ? tasks.serve(resolved.functions) : undefined;
  let handle: ExecutionHandle<object>;
  try {
    const res = await remote.client.createExecution(executionRequest(remote, resolved.id, literals, opts));
    handle = new ExecutionHandle(remote, await remote.client.getExecution({ id: res.id }));
  } catch (err) {
    if (worker !== undefined) await tasks.unserve(worker);
    throw err;
  }
  if (!isWaiting(opts)) {
    // Nobody waits here: keep serving the tasks until the execution ends, in the background.
    if (worker !== undefined)
      void new ExecutionHandle(remote, handle.execution)
        .wait()
        .catch(() => undefined)
        .finally(() => tasks.unserve(worker));
    return handle;
  }
  try {
    const { onRun, onNode, onTask, onProgress, timeoutMs } = opts;
    return await handle.wait({
      ...(onRun === undefined ? {} : { onRun }),
      ...(onNode === undefined ? {} : { onNode }),
      ...(onTask === undefined ? {} : { onTask }),
      ...(onProgress === undefined ? {} : { onProgress }),
      ...(timeoutMs === undefined ? {} : { timeoutMs }),
    });
  } finally {
    if (worker !== undefined) await tasks.unserve(worker);
  }
}
