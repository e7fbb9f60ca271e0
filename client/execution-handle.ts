// The handle of one execution: id and phase (printed by name), outputs typed by the DSL entity it runs (downloaded
// files too), waiting on the watch stream with progress callbacks, node trees from sync, task log links.
import path from "node:path";
import { create } from "@bufbuild/protobuf";
import { executionConsoleUrl } from "../common/console-urls.js";
import type { Execution } from "../gen/flyteidl/admin/execution_pb.js";
import type { Signal } from "../gen/flyteidl/admin/signal_pb.js";
import { WorkflowExecution_Phase as Phase } from "../gen/flyteidl/core/execution_pb.js";
import {
  type WorkflowExecutionIdentifier,
  WorkflowExecutionIdentifierSchema,
} from "../gen/flyteidl/core/identifier_pb.js";
import type { WatchEvent } from "../gen/petrel/v1/watch_pb.js";
import { downloadOutputs } from "./blob-downloads.js";
import type { TransferOptions } from "./blob-uploads.js";
import { PetrelError } from "./errors.js";
import { listNodeTree, type NodeInfo, type TaskLogLink, taskLogLinks } from "./execution-nodes.js";
import { type ProgressCallbacks, ProgressTracker } from "./progress.js";
import type { SynchronousClient } from "./synchronous-client.js";
import { LogFollower, type LogReadOptions, readTaskLogs, type TaskLogText } from "./task-log-reader.js";
import { fromLiteralMap } from "./type-engine.js";

const TERMINAL = new Set([Phase.SUCCEEDED, Phase.FAILED, Phase.ABORTED, Phase.TIMED_OUT]);

export type { NodeInfo, TaskLogLink } from "./execution-nodes.js";
export type { TaskLogText } from "./task-log-reader.js";

export class ExecutionTimeoutError extends Error {}
export class ExecutionNotSucceededError extends Error {}

export interface WaitOptions extends ProgressCallbacks {
  /** Give up (ExecutionTimeoutError) after this long. */
  readonly timeoutMs?: number;
  /** Polling interval when the server has no watch stream (default 1 s). */
  readonly pollIntervalMs?: number;
  /** Every raw watch event (execution, node and task execution changes), before the progress callbacks. */
  readonly onProgress?: (event: WatchEvent) => void;
}

/**
 * One execution. `O` is the type of its outputs: the DSL entity's outputs when `remote.execute` ran one, plain
 * records for executions launched or fetched by name.
 */
export class ExecutionHandle<O extends object = Record<string, unknown>> {
  constructor(
    private readonly remote: {
      readonly client: SynchronousClient;
      readonly consoleBase?: string | undefined;
    },
    public execution: Execution,
  ) {}

  /** The full identifier (project, domain, name, org). */
  get id(): WorkflowExecutionIdentifier {
    return this.execution.id ?? create(WorkflowExecutionIdentifierSchema);
  }
  get name(): string {
    return this.execution.id?.name ?? "";
  }
  get phase(): Phase {
    return this.execution.closure?.phase ?? Phase.UNDEFINED;
  }
  /** The phase by name, e.g. "SUCCEEDED". */
  get phaseName(): string {
    return Phase[this.phase] ?? String(this.phase);
  }
  get isDone(): boolean {
    return TERMINAL.has(this.phase);
  }
  get error(): string | undefined {
    const r = this.execution.closure?.outputResult;
    return r?.case === "error" ? r.value.message : undefined;
  }
  /** The execution's page in the console; undefined when the remote does not know where the console is. */
  get consoleUrl(): string | undefined {
    const base = this.remote.consoleBase;
    return base === undefined ? undefined : executionConsoleUrl(base, this.id);
  }

  /** `ExecutionHandle(project/domain/name PHASE)`. */
  toString(): string {
    const id = this.id;
    return `ExecutionHandle(${id.project}/${id.domain}/${id.name} ${this.phaseName})`;
  }

  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return this.toString();
  }

  /** The outputs, typed by the DSL entity that was executed. */
  async outputs(): Promise<O> {
    return fromLiteralMap(
      (await this.remote.client.getExecutionData({ id: this.execution.id })).fullOutputs,
    ) as O;
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
   * execution. `onRun`, `onNode` and `onTask` are called on each phase change of the execution, its nodes and
   * its task attempts (nodes and tasks need the watch stream; polling only reports the run).
   */
  async wait(opts: WaitOptions = {}): Promise<this> {
    const deadline = opts.timeoutMs === undefined ? Number.POSITIVE_INFINITY : Date.now() + opts.timeoutMs;
    const abort = new AbortController();
    const timer = opts.timeoutMs === undefined ? undefined : setTimeout(() => abort.abort(), opts.timeoutMs);
    const progress = new ProgressTracker(opts);
    try {
      for await (const e of this.remote.client.watchExecution(
        { id: this.execution.id },
        { signal: abort.signal },
      )) {
        if (e.kind.case === "execution") this.execution = e.kind.value;
        opts.onProgress?.(e);
        progress.event(e);
      }
    } catch (err) {
      if (!abort.signal.aborted && !(err instanceof PetrelError)) throw err;
    } finally {
      if (timer !== undefined) clearTimeout(timer);
    }
    await this.sync();
    progress.execution(this.execution);
    while (!this.isDone && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, Math.min(opts.pollIntervalMs ?? 1_000, deadline - Date.now())));
      await this.sync();
      progress.execution(this.execution);
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
    if (opts.nodes === true) this.nodes = await listNodeTree(this.remote.client, this.id, "");
    return this;
  }

  /** Node executions from the last `sync({ nodes: true })`. */
  nodes: NodeInfo[] = [];

  /**
   * The log links of the execution's task attempts (of one node when `nodeId` is given — a unique node id, or a
   * spec node id for nested nodes): each attempt's TaskExecution closure logs, `{ nodeId, taskName, attempt, name,
   * uri }` — a container task's stdout and stderr, kept in the data plane's store and served by Petrel's HTTP port
   * (while it runs too). Attempts that recorded no log (e.g. TypeScript worker tasks) add none.
   */
  async logs(nodeId?: string): Promise<TaskLogLink[]> {
    await this.sync({ nodes: true });
    return taskLogLinks(this.nodes, nodeId);
  }

  /**
   * The logs of the execution's (or one node's) task attempts with their text so far (Orquestra's `get_logs`);
   * `token`: the bearer token of a server that guards its log route.
   */
  async readLogs(nodeId?: string, opts: LogReadOptions = {}): Promise<TaskLogText[]> {
    return readTaskLogs(await this.logs(nodeId), opts);
  }

  /**
   * Follows the logs of the execution's (or one node's) task attempts live: `onText` gets each piece of new text as
   * it is written, with the link it belongs to, until the execution is done (and its logs read to their end) or
   * `signal` aborts.
   */
  async followLogs(
    onText: (link: TaskLogLink, text: string) => void,
    opts: LogReadOptions & { nodeId?: string; pollIntervalMs?: number } = {},
  ): Promise<void> {
    const follower = new LogFollower();
    for (;;) {
      // Done before reading: the last read then sees the logs whole (they are complete before an attempt ends).
      const links = await this.logs(opts.nodeId);
      const done = this.isDone;
      await follower.poll(links, onText, opts);
      if (done || opts.signal?.aborted === true) return;
      await new Promise((r) => setTimeout(r, opts.pollIntervalMs ?? 500));
    }
  }
}
