// What the evaluator and the task runner share: the database, data store, compiled-workflow cache, and helpers
// that record events by the same rules the Create*Event rpcs use. Engine transactions (ctx.transaction) collect
// node and task events in an EventBatch and write them in a few statements before commit.

import os from "node:os";
import path from "node:path";
import { create, fromBinary } from "@bufbuild/protobuf";
import { timestampNow } from "@bufbuild/protobuf/wkt";
import type { Knex } from "knex";
import {
  type CompiledWorkflowClosure,
  CompiledWorkflowClosureSchema,
} from "../../gen/flyteidl/core/compiler_pb.js";
import type {
  ExecutionError,
  NodeExecution_Phase,
  TaskExecution_Phase,
  TaskLog,
  WorkflowExecution_Phase,
} from "../../gen/flyteidl/core/execution_pb.js";
import type { Identifier } from "../../gen/flyteidl/core/identifier_pb.js";
import type { LiteralMap } from "../../gen/flyteidl/core/literals_pb.js";
import {
  TaskExecutionEventSchema,
  type TaskExecutionMetadata,
  WorkflowExecutionEventSchema,
} from "../../gen/flyteidl/event/event_pb.js";
import type { CompilePool } from "../compiler/compile-pool.js";
import { AppError, Code } from "../errors.js";
import type { Logger } from "../logger.js";
import { LruCache } from "../lru-cache.js";
import { EventBatch } from "../managers/event-batch.js";
import { applyWorkflowEvent } from "../managers/workflow-event-recorder.js";
import type { OutboxPolicy } from "../notifications/outbox-collector.js";
import type { DataStore } from "../repositories/data-store.js";
import type { ExecutionRow } from "../repositories/execution-repo.js";
import { decodeClosureInSteps } from "../transformers/closure-decoder.js";
import { executionId } from "../transformers/execution.js";
import { decodeLiteralMap } from "../transformers/literals.js";
import type { LaunchChild } from "./child-executions.js";
import type { HandedAttempt, HandedAttempts } from "./handed-attempts.js";
import { type NodeEventExtra, nodeExecutionEvent } from "./node-event-extra.js";
import { reportPhaseChange } from "./phase-report.js";
import type { TaskPlugin } from "./plugins/plugin.js";
import type { SecretSource } from "./task-secrets.js";

export type { NodeEventExtra, ParentTask, Placement } from "./node-event-extra.js";

export interface EngineOptions {
  readonly leaseMs: number;
  readonly concurrency: number;
  readonly pollMs: number;
  readonly workRoot: string;
  /** Variables every task process gets besides its own (config `--task-env`). */
  readonly taskEnv: Readonly<Record<string, string>>;
  readonly secrets?: SecretSource;
  readonly outbox?: OutboxPolicy;
}

export const DEFAULT_ENGINE_OPTIONS: EngineOptions = {
  leaseMs: 30_000,
  concurrency: 32,
  pollMs: 1_000,
  workRoot: path.join(os.tmpdir(), "petrel-tasks"),
  taskEnv: {},
};

/** Events that were already recorded (a replay after a crash) are fine; anything else is a real failure. */
const replayed = (err: unknown) =>
  err instanceof AppError && (err.code === Code.AlreadyExists || err.code === Code.FailedPrecondition);

async function tolerant(op: () => Promise<void>): Promise<void> {
  try {
    await op();
  } catch (err) {
    if (!replayed(err)) throw err;
  }
}

const WORKFLOW_CACHE_SIZE = 256;
/**
 * Literal maps stored in blobs of this size or more are kept decoded (LITERAL_MAP_CACHE_SIZE of them, up to
 * LITERAL_MAP_CACHE_MAX_BYTES each): a big execution's or array node's inputs are read by every evaluation.
 */
const LITERAL_MAP_CACHE_MIN_BYTES = 4 * 1024;
const LITERAL_MAP_CACHE_MAX_BYTES = 1024 * 1024;
const LITERAL_MAP_CACHE_SIZE = 32;

/** Inputs up to this size are read with the execution row lock (saving a round trip for the evaluator). */
const PREFETCH_INPUT_BYTES = 64 * 1024;

/**
 * Every engine transaction plans its statements generically: they are the engine's own (named, prepared once per
 * connection), each a lookup or write by key whose best plan does not depend on the values. Postgres would otherwise
 * plan some of them again on every call (CreateExecution's INSERT: its arrays' lengths make each custom plan look
 * cheaper than the generic one), which cost more than running them. Sent with BEGIN (pg-client.ts): no round trip.
 */
const GENERIC_PLANS = "SET LOCAL plan_cache_mode = force_generic_plan";

export interface WorkflowOutcome {
  readonly phase: WorkflowExecution_Phase;
  readonly outputs?: LiteralMap;
  readonly error?: ExecutionError;
}

export class EngineContext {
  /** Compiled workflows by workflow row id (immutable once registered). */
  private readonly workflows = new LruCache<string, CompiledWorkflowClosure>(WORKFLOW_CACHE_SIZE);
  private readonly batches = new WeakMap<Knex, EventBatch>();
  /** Running attempts in this process, by `<execution id>/<node id>`: aborted when the node is. */
  readonly running = new Map<string, AbortController>();
  /** Set when the engine stops: interrupted attempts are handed back to the queue, not recorded as failures. */
  stopping = false;
  /** Compiles the workflows dynamic tasks produce (set by the composition root). */
  compiler: CompilePool | undefined;
  /** Dynamic nodes' compiled workflows by URI (immutable once written). */
  private readonly dynamicWorkflows = new LruCache<string, CompiledWorkflowClosure>(WORKFLOW_CACHE_SIZE);
  /** Big decoded literal maps by URI, with the bytes they were decoded from (see readLiteralMap). */
  private readonly literalMaps = new LruCache<
    string,
    { readonly bytes: Uint8Array; readonly map: LiteralMap }
  >(LITERAL_MAP_CACHE_SIZE);
  /** Starts child executions for launch-plan nodes (the execution launcher; set by the composition root). */
  launchChild: LaunchChild | undefined;
  /** Where the HTTP port serves task logs (set once the listeners are up). */
  logBaseUrl = "";
  /** The attempts engine transactions hand to this engine, by transaction (handed-attempts.ts). */
  readonly handed = new WeakMap<Knex, HandedAttempts>();
  /** Evaluates locked executions inside an engine transaction (the evaluator's; set by the engine). */
  evaluate: ((trx: Knex, executionIds: readonly string[]) => Promise<void>) | undefined;
  /** Takes a slot for an attempt to hand over (false when the engine is full), given back by releaseSlot or adopt. */
  reserveSlot: (() => boolean) | undefined;
  releaseSlot: (() => void) | undefined;
  /** Runs a handed attempt in its reserved slot (set by the engine). */
  adopt: ((attempt: HandedAttempt) => void) | undefined;

  constructor(
    readonly db: Knex,
    readonly data: DataStore,
    readonly logger: Logger,
    readonly plugins: (template: {
      type: string;
      target: { case: string | undefined };
    }) => TaskPlugin | undefined,
    readonly options: EngineOptions,
  ) {}

  /** Told, after an engine transaction committed, which executions' watchers it notified (and its token). */
  onCommitted: ((executionIds: readonly string[], token: string) => void) | undefined;

  /** A transaction whose node and task events are written, batched, before it commits. */
  async transaction<T>(fn: (trx: Knex.Transaction) => Promise<T>): Promise<T> {
    let batch: EventBatch | undefined;
    const result = await this.db.transaction(async (trx) => {
      batch = new EventBatch(trx, this.data, PREFETCH_INPUT_BYTES, this.options.outbox);
      this.batches.set(trx, batch);
      await trx.raw(GENERIC_PLANS);
      const out = await fn(trx);
      await batch.flush(true);
      return out;
    });
    const told = batch?.toldWatchers() ?? [];
    if (batch !== undefined && told.length > 0) this.onCommitted?.(told, batch.token);
    this.data.committed(batch?.committedCopies() ?? []);
    return result;
  }

  /** The event batch of an engine transaction (see transaction()). */
  batch(trx: Knex): EventBatch {
    const batch = this.batches.get(trx);
    if (batch === undefined) throw new Error("engine events must be recorded inside ctx.transaction()");
    return batch;
  }

  /** A blob as the transaction sees it, pending batched writes included. */
  readData(trx: Knex, uri: string): Promise<Uint8Array | undefined> {
    return this.batch(trx).readData(uri);
  }

  /**
   * The literal map stored at `uri` as the transaction sees it (empty for ""). A big one is decoded again only when
   * its bytes changed: callers share the map and must not modify it.
   */
  async readLiteralMap(trx: Knex, uri: string): Promise<LiteralMap> {
    const bytes = uri === "" ? undefined : await this.readData(trx, uri);
    if (
      bytes === undefined ||
      bytes.length < LITERAL_MAP_CACHE_MIN_BYTES ||
      bytes.length > LITERAL_MAP_CACHE_MAX_BYTES
    )
      return decodeLiteralMap(bytes);
    const hit = this.literalMaps.get(uri);
    if (hit !== undefined && Buffer.compare(hit.bytes, bytes) === 0) return hit.map;
    const map = decodeLiteralMap(bytes);
    this.literalMaps.set(uri, { bytes, map });
    return map;
  }

  async compiledWorkflow(db: Knex, workflowRowId: string): Promise<CompiledWorkflowClosure> {
    const cached = this.workflows.get(workflowRowId);
    if (cached !== undefined) return cached;
    const row = (await db("workflows").select("closure").where({ id: workflowRowId }).first()) as {
      closure: Buffer;
    };
    // In steps: a workflow of thousands of nodes takes tens of milliseconds to decode.
    const closure = await decodeClosureInSteps(row.closure, () => new Promise((r) => setImmediate(r)));
    this.workflows.set(workflowRowId, closure);
    return closure;
  }

  /** The workflow a dynamic node compiled, stored at `uri`; read inside an engine transaction when `trx` is one. */
  async dynamicWorkflow(db: Knex, uri: string): Promise<CompiledWorkflowClosure | undefined> {
    const cached = this.dynamicWorkflows.get(uri);
    if (cached !== undefined) return cached;
    const bytes = this.batches.has(db) ? await this.readData(db, uri) : await this.data.get(db, uri);
    if (bytes === undefined) return undefined;
    const closure = fromBinary(CompiledWorkflowClosureSchema, bytes);
    this.dynamicWorkflows.set(uri, closure);
    return closure;
  }

  /**
   * Locks the execution row for this transaction and returns it as the transaction sees it. Its inputs blob comes
   * in the same statement (when small) and is served from the batch's cache afterwards.
   */
  async lockExecution(trx: Knex, id: string): Promise<ExecutionRow | undefined> {
    return (await this.batch(trx).lock([id]))[0];
  }

  /**
   * Applies workflow events in order to the (locked) execution row; the batch writes the result once, before
   * commit. Events that were already recorded are skipped. Returns the row as the transaction now sees it.
   */
  async workflowEvents(
    trx: Knex,
    exec: ExecutionRow,
    outcomes: readonly WorkflowOutcome[],
  ): Promise<ExecutionRow> {
    let row = exec;
    let changes: Partial<ExecutionRow> = {};
    for (const o of outcomes) {
      const event = create(WorkflowExecutionEventSchema, {
        executionId: executionId(exec),
        phase: o.phase,
        occurredAt: timestampNow(),
        ...(o.outputs !== undefined ? { outputResult: { case: "outputData", value: o.outputs } } : {}),
        ...(o.error !== undefined ? { outputResult: { case: "error", value: o.error } } : {}),
      });
      try {
        const effect = applyWorkflowEvent(this.data.root, row, event);
        this.batch(trx).outbox.workflow(row, event);
        reportPhaseChange(this.logger, exec, row.phase, effect.changes.phase);
        this.batch(trx).addBlobs(effect.blobs);
        changes = { ...changes, ...effect.changes };
        row = { ...row, ...effect.changes };
      } catch (err) {
        if (!replayed(err)) throw err;
      }
    }
    if (Object.keys(changes).length === 0) return exec;
    return this.batch(trx).updateExecution(exec, changes);
  }

  nodeEvent(
    trx: Knex,
    exec: ExecutionRow,
    nodeId: string,
    phase: NodeExecution_Phase,
    extra: NodeEventExtra = {},
  ) {
    const event = nodeExecutionEvent(executionId(exec), nodeId, phase, extra);
    return tolerant(() => this.batch(trx).recordNode(exec, event));
  }

  taskEvent(
    trx: Knex,
    exec: ExecutionRow,
    nodeId: string,
    taskId: Identifier,
    attempt: number,
    phase: TaskExecution_Phase,
    extra: {
      outputs?: LiteralMap;
      /** Outputs already stored at this URI, instead of `outputs`. */
      outputUri?: string;
      /** Where the attempt's inputs are stored (the node's inputs.pb). */
      inputUri?: string;
      error?: ExecutionError;
      taskType?: string;
      /** Orders events of the same phase (a later version updates the attempt). */
      phaseVersion?: number;
      reason?: string;
      logs?: TaskLog[];
      metadata?: TaskExecutionMetadata;
    } = {},
  ) {
    const event = create(TaskExecutionEventSchema, {
      taskId,
      parentNodeExecutionId: { nodeId, executionId: executionId(exec) },
      retryAttempt: attempt,
      phase,
      phaseVersion: extra.phaseVersion ?? 0,
      occurredAt: timestampNow(),
      taskType: extra.taskType ?? "",
      reason: extra.reason ?? "",
      logs: extra.logs ?? [],
      ...(extra.metadata !== undefined ? { metadata: extra.metadata } : {}),
      ...(extra.inputUri !== undefined ? { inputValue: { case: "inputUri", value: extra.inputUri } } : {}),
      ...(extra.outputs !== undefined ? { outputResult: { case: "outputData", value: extra.outputs } } : {}),
      ...(extra.outputUri !== undefined
        ? { outputResult: { case: "outputUri", value: extra.outputUri } }
        : {}),
      ...(extra.error !== undefined ? { outputResult: { case: "error", value: extra.error } } : {}),
    });
    return tolerant(() => this.batch(trx).recordTask(exec, event));
  }
}
