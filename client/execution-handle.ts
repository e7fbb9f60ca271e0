// The handle of one execution: phase, typed outputs (downloaded files too), waiting on the watch stream, node trees
// from sync.
import path from "node:path";
import type { Execution } from "../gen/flyteidl/admin/execution_pb.js";
import type { NodeExecution } from "../gen/flyteidl/admin/node_execution_pb.js";
import type { Signal } from "../gen/flyteidl/admin/signal_pb.js";
import type { TaskExecution } from "../gen/flyteidl/admin/task_execution_pb.js";
import { WorkflowExecution_Phase as Phase } from "../gen/flyteidl/core/execution_pb.js";
import type { WatchEvent } from "../gen/petrel/v1/watch_pb.js";
import { downloadOutputs } from "./blob-downloads.js";
import type { TransferOptions } from "./blob-uploads.js";
import { PetrelError } from "./errors.js";
import type { SynchronousClient } from "./synchronous-client.js";
import { fromLiteralMap } from "./type-engine.js";

const TERMINAL = new Set([Phase.SUCCEEDED, Phase.FAILED, Phase.ABORTED, Phase.TIMED_OUT]);

export class ExecutionTimeoutError extends Error {}
export class ExecutionNotSucceededError extends Error {}

export class ExecutionHandle {
  constructor(
    private readonly remote: { readonly client: SynchronousClient },
    public execution: Execution,
  ) {}

  get name(): string {
    return this.execution.id?.name ?? "";
  }
  get phase(): Phase {
    return this.execution.closure?.phase ?? Phase.UNDEFINED;
  }
  get isDone(): boolean {
    return TERMINAL.has(this.phase);
  }
  get error(): string | undefined {
    const r = this.execution.closure?.outputResult;
    return r?.case === "error" ? r.value.message : undefined;
  }

  async outputs(): Promise<Record<string, unknown>> {
    return fromLiteralMap((await this.remote.client.getExecutionData({ id: this.execution.id })).fullOutputs);
  }

  /**
   * Writes the outputs into `dir` (created): each file or directory output downloaded to `<dir>/<name>` through the
   * server's signed URLs, and every output in `<dir>/outputs.json`. Returns the outputs with files and directories as
   * their local paths. Throws when the execution has not succeeded.
   */
  async downloadOutputs(dir: string, opts: TransferOptions = {}): Promise<Record<string, unknown>> {
    if (this.phase !== Phase.SUCCEEDED) await this.sync();
    if (this.phase !== Phase.SUCCEEDED)
      throw new ExecutionNotSucceededError(
        `execution ${this.name} is ${Phase[this.phase]}${this.error === undefined ? "" : `: ${this.error}`}; it has no outputs to download`,
      );
    const data = await this.remote.client.getExecutionData({ id: this.execution.id });
    return downloadOutputs(this.remote.client, data.fullOutputs, path.resolve(dir), opts);
  }

  async inputs(): Promise<Record<string, unknown>> {
    return fromLiteralMap((await this.remote.client.getExecutionData({ id: this.execution.id })).fullInputs);
  }

  /**
   * Waits until a terminal phase: on the watch stream, or by polling every `pollIntervalMs` (default 1 s) when
   * the server has no watch stream (e.g. FlyteAdmin) or it breaks. Past `timeoutMs` it throws naming the
   * execution.
   */
  async wait(opts: { timeoutMs?: number; pollIntervalMs?: number } = {}): Promise<this> {
    const deadline = opts.timeoutMs === undefined ? Number.POSITIVE_INFINITY : Date.now() + opts.timeoutMs;
    const abort = new AbortController();
    const timer = opts.timeoutMs === undefined ? undefined : setTimeout(() => abort.abort(), opts.timeoutMs);
    try {
      for await (const e of this.remote.client.watchExecution(
        { id: this.execution.id },
        { signal: abort.signal },
      )) {
        if (e.kind.case === "execution") this.execution = e.kind.value;
      }
    } catch (err) {
      if (!abort.signal.aborted && !(err instanceof PetrelError)) throw err;
    } finally {
      if (timer !== undefined) clearTimeout(timer);
    }
    await this.sync();
    while (!this.isDone && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, Math.min(opts.pollIntervalMs ?? 1_000, deadline - Date.now())));
      await this.sync();
    }
    if (!this.isDone)
      throw new ExecutionTimeoutError(`execution ${this.name} did not finish within ${opts.timeoutMs} ms`);
    return this;
  }

  /** Every phase change of the execution, its nodes and task attempts, until it finishes. */
  async *watch(): AsyncGenerator<WatchEvent> {
    for await (const e of this.remote.client.watchExecution({ id: this.execution.id })) {
      if (e.kind.case === "execution") this.execution = e.kind.value;
      yield e;
    }
  }

  /** Waits until a gate of this execution is waiting for `signalId` (so it can be approved or set). */
  async waitForSignal(
    signalId: string,
    opts: { timeoutMs?: number; pollIntervalMs?: number } = {},
  ): Promise<Signal> {
    const deadline = Date.now() + (opts.timeoutMs ?? 60_000);
    for (;;) {
      const { signals } = await this.remote.client.listSignals({
        workflowExecutionId: this.execution.id,
        limit: 100,
      });
      const found = signals.find((s) => s.id?.signalId === signalId);
      if (found !== undefined) return found;
      await this.sync();
      if (this.isDone)
        throw new Error(`execution ${this.name} finished without waiting for signal ${signalId}`);
      if (Date.now() > deadline)
        throw new ExecutionTimeoutError(`execution ${this.name} did not wait for signal ${signalId} in time`);
      await new Promise((r) => setTimeout(r, opts.pollIntervalMs ?? 100));
    }
  }

  /** Refreshes the execution; with `nodes`, also every node execution (recursively under parents) and attempts. */
  async sync(opts: { nodes?: boolean } = {}): Promise<this> {
    this.execution = await this.remote.client.getExecution({ id: this.execution.id });
    if (opts.nodes === true) this.nodes = await this.listNodes("");
    return this;
  }

  /** Node executions from the last `sync({ nodes: true })`. */
  nodes: NodeInfo[] = [];

  private async listNodes(parent: string): Promise<NodeInfo[]> {
    const out: NodeInfo[] = [];
    const c = this.remote.client;
    for await (const node of c.listNodeExecutionsAll({
      workflowExecutionId: this.execution.id,
      uniqueParentId: parent,
    })) {
      const id = node.id?.nodeId ?? "";
      const attempts = await c.listTaskExecutionsAll({ nodeExecutionId: node.id });
      const taskExecutions = [];
      for await (const a of attempts) taskExecutions.push(a);
      const children = node.metadata?.isParentNode === true ? await this.listNodes(id) : [];
      out.push({ node, taskExecutions, children });
    }
    return out;
  }
}

export interface NodeInfo {
  readonly node: NodeExecution;
  readonly taskExecutions: TaskExecution[];
  /** Nodes under this one (branch cases, sub-workflow and array children). */
  readonly children: NodeInfo[];
}
