// Records what a task attempt came to, inside a transaction that holds the execution's lock and proves the recorder
// still owns the attempt's lease (task-runner.ts: so a result is never recorded twice, even when a crashed replica's
// work was taken over): outputs end the node; a dynamic workflow moves it to DYNAMIC_RUNNING; a failure retries it or
// fails it by Flyte's rules (retry-policy.ts). The caller evaluates the execution after (or queues an evaluation).
import { fromBinary } from "@bufbuild/protobuf";
import type { Knex } from "knex";
import { TaskExecutionClosureSchema } from "../../gen/flyteidl/admin/task_execution_pb.js";
import { CatalogCacheStatus } from "../../gen/flyteidl/core/catalog_pb.js";
import {
  type ExecutionError,
  ExecutionError_ErrorKind,
  NodeExecution_Phase as NodePhase,
  type TaskLog,
  TaskExecution_Phase as TaskPhase,
} from "../../gen/flyteidl/core/execution_pb.js";
import type { Identifier } from "../../gen/flyteidl/core/identifier_pb.js";
import type { TaskTemplate } from "../../gen/flyteidl/core/tasks_pb.js";
import type { Node } from "../../gen/flyteidl/core/workflow_pb.js";
import type { ExecutionRow } from "../repositories/execution-repo.js";
import type { NodeExecutionRow } from "../repositories/node-execution-repo.js";
import { putCachedOutputs, releaseCacheKey } from "../repositories/task-cache-repo.js";
import { enqueueTask, type WorkItemRow } from "../repositories/work-repo.js";
import { attemptOutputsUri } from "../storage/layout.js";
import { executionKey } from "../transformers/execution.js";
import { decodeLiteralMap, encodeLiteralMap } from "../transformers/literals.js";
import { attemptPlaces } from "./attempt-spec.js";
import { cacheKey } from "./cache-key.js";
import { compileDynamic } from "./dynamic-nodes.js";
import type { EngineContext } from "./engine-context.js";
import type { TaskResult } from "./plugins/plugin.js";
import { maxAttempts, retryVerdict } from "./retry-policy.js";
import { workerQueue } from "./task-nodes.js";

const RETRY_BACKOFF_MS = 200;

/** Earlier attempts of a node that failed with a retryable system error (they have a budget of their own). */
export async function systemFailures(trx: Knex, nodeExecutionId: string): Promise<number> {
  const rows = (await trx("task_executions")
    .select("closure")
    .where({ node_execution_id: nodeExecutionId, phase: "RETRYABLE_FAILED" })) as { closure: Buffer }[];
  return rows.filter((r) => {
    const out = fromBinary(TaskExecutionClosureSchema, r.closure).outputResult;
    return out.case === "error" && out.value.kind === ExecutionError_ErrorKind.SYSTEM;
  }).length;
}

/** What recording an attempt needs besides its result. */
export interface AttemptRecord {
  readonly item: Pick<WorkItemRow, "execution_id" | "node_id" | "attempt">;
  readonly ref: Identifier;
  readonly template: TaskTemplate;
  /** The node's template node (its retries override the task's). */
  readonly node?: Node;
  readonly logs?: TaskLog[];
}

/** The cache key of the attempt's task run (its node's inputs are read only for a cacheable task). */
async function attemptCacheKey(
  ctx: EngineContext,
  trx: Knex,
  node: NodeExecutionRow,
  a: AttemptRecord,
): Promise<string | undefined> {
  if (a.template.metadata?.discoverable !== true) return undefined;
  const inputs = decodeLiteralMap(
    node.input_uri === "" ? undefined : await ctx.readData(trx, node.input_uri),
  );
  return cacheKey(a.ref, a.template, inputs);
}

/** An attempt run from a work item leased to `owner`. */
export interface LeasedAttempt extends AttemptRecord {
  readonly item: WorkItemRow;
  readonly owner: string;
}

/**
 * A failed attempt: retried as the next attempt while the budget allows, else the node fails (true: the execution
 * needs evaluating). Used for task failures and for attempts whose replica was lost.
 */
export async function recordFailure(
  ctx: EngineContext,
  trx: Knex,
  exec: ExecutionRow,
  node: NodeExecutionRow,
  a: AttemptRecord,
  failure: { error: ExecutionError; permanent?: boolean; deckUri?: string },
): Promise<boolean> {
  const { item, ref, template } = a;
  const taskType = template.type;
  const logs = a.logs ?? [];
  const verdict = retryVerdict(
    failure.error,
    failure.permanent === true,
    item.attempt,
    item.attempt === 0 ? 0 : await systemFailures(trx, node.id),
    maxAttempts(a.node, template),
  );
  if (verdict.retry) {
    await ctx.taskEvent(trx, exec, item.node_id, ref, item.attempt, TaskPhase.RETRYABLE_FAILED, {
      error: failure.error,
      taskType,
      logs,
    });
    await ctx.taskEvent(trx, exec, item.node_id, ref, item.attempt + 1, TaskPhase.QUEUED, { taskType });
    const backoff =
      failure.error.kind === ExecutionError_ErrorKind.SYSTEM ? 0 : RETRY_BACKOFF_MS * 2 ** item.attempt;
    await enqueueTask(trx, exec.id, item.node_id, item.attempt + 1, backoff, workerQueue(template));
    ctx.batch(trx).notifyWatchers(exec.id);
    return false;
  }
  await ctx.taskEvent(trx, exec, item.node_id, ref, item.attempt, TaskPhase.FAILED, {
    error: failure.error,
    taskType,
    logs,
  });
  const key = await attemptCacheKey(ctx, trx, node, a);
  if (key !== undefined) await releaseCacheKey(trx, key, `${exec.id}/${item.node_id}`);
  await ctx.nodeEvent(trx, exec, item.node_id, NodePhase.FAILED, {
    error: verdict.nodeError,
    checkpointUri: attemptPlaces(ctx, exec, item.node_id, item.attempt).checkpoint,
    ...(failure.deckUri === undefined ? {} : { deckUri: failure.deckUri }),
  });
  ctx.batch(trx).notifyWatchers(exec.id);
  return true;
}

async function recordSuccess(
  ctx: EngineContext,
  trx: Knex,
  exec: ExecutionRow,
  node: NodeExecutionRow,
  a: AttemptRecord,
  result: Extract<TaskResult, { outputs: unknown }>,
): Promise<void> {
  const { item, ref, template } = a;
  await ctx.taskEvent(trx, exec, item.node_id, ref, item.attempt, TaskPhase.SUCCEEDED, {
    outputs: result.outputs,
    taskType: template.type,
    logs: a.logs ?? [],
  });
  const key = await attemptCacheKey(ctx, trx, node, a);
  if (key !== undefined) {
    await putCachedOutputs(trx, key, Buffer.from(encodeLiteralMap(result.outputs)), exec.execution_name);
    await releaseCacheKey(trx, key, `${exec.id}/${item.node_id}`);
  }
  // The node's outputs are this attempt's (stored by the task event above), as in Flyte.
  await ctx.nodeEvent(trx, exec, item.node_id, NodePhase.SUCCEEDED, {
    outputUri: attemptOutputsUri(ctx.data.root, executionKey(exec), item.node_id, item.attempt),
    checkpointUri: attemptPlaces(ctx, exec, item.node_id, item.attempt).checkpoint,
    ...(result.deckUri === undefined ? {} : { deckUri: result.deckUri }),
    ...(key === undefined ? {} : { cacheStatus: CatalogCacheStatus.CACHE_POPULATED }),
  });
  ctx.batch(trx).notifyWatchers(exec.id);
}

/** The attempt wrote a dynamic workflow: the task succeeded and the node runs the (compiled) workflow. */
async function recordDynamic(
  ctx: EngineContext,
  trx: Knex,
  exec: ExecutionRow,
  node: NodeExecutionRow,
  a: AttemptRecord,
  result: Extract<TaskResult, { dynamic: unknown }>,
  compiled: Awaited<ReturnType<typeof compileDynamic>>,
): Promise<boolean> {
  const { item, ref, template } = a;
  if ("error" in compiled)
    return recordFailure(ctx, trx, exec, node, a, { error: compiled.error, permanent: true });
  await ctx.taskEvent(trx, exec, item.node_id, ref, item.attempt, TaskPhase.SUCCEEDED, {
    taskType: template.type,
    logs: a.logs ?? [],
  });
  await ctx.nodeEvent(trx, exec, item.node_id, NodePhase.DYNAMIC_RUNNING, {
    isParent: true,
    isDynamic: true,
    dynamicWorkflow: {
      $typeName: "flyteidl.event.DynamicWorkflowNodeMetadata",
      ...(compiled.closure.primary?.template?.id === undefined
        ? {}
        : { id: compiled.closure.primary.template.id }),
      compiledWorkflow: compiled.closure,
      dynamicJobSpecUri: result.futuresUri,
    },
    checkpointUri: attemptPlaces(ctx, exec, item.node_id, item.attempt).checkpoint,
    ...(result.deckUri === undefined ? {} : { deckUri: result.deckUri }),
  });
  ctx.batch(trx).notifyWatchers(exec.id);
  return true;
}

/** A dynamic workflow is compiled before the transaction that records it (it may take a while and needs no lock). */
export type CompiledDynamic = Awaited<ReturnType<typeof compileDynamic>>;

export function compileResult(
  ctx: EngineContext,
  exec: ExecutionRow,
  a: AttemptRecord,
  result: TaskResult,
): Promise<CompiledDynamic | undefined> {
  if (!result.ok || !("dynamic" in result)) return Promise.resolve(undefined);
  return compileDynamic(ctx, exec, a.item.node_id, a.template, result.dynamic);
}

/** Records the attempt's result on its (running) node; true when the execution needs evaluating. */
export async function recordOutcome(
  ctx: EngineContext,
  trx: Knex,
  exec: ExecutionRow,
  node: NodeExecutionRow,
  a: AttemptRecord,
  result: TaskResult,
  compiled: CompiledDynamic | undefined,
): Promise<boolean> {
  if (!result.ok) return recordFailure(ctx, trx, exec, node, a, result);
  if ("outputs" in result) {
    await recordSuccess(ctx, trx, exec, node, a, result);
    return true;
  }
  return compiled !== undefined && recordDynamic(ctx, trx, exec, node, a, result, compiled);
}
