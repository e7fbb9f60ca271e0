// Records what a task attempt came to, in one transaction that also proves the recorder still owns the attempt's
// lease (so a result is never recorded twice, even when a crashed replica's work was taken over): outputs end the
// node; a dynamic workflow moves it to DYNAMIC_RUNNING; a failure retries it or fails it by Flyte's rules
// (retry-policy.ts).
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
import { completeWork, enqueueEvaluation, enqueueTask, type WorkItemRow } from "../repositories/work-repo.js";
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
  readonly item: WorkItemRow;
  readonly owner: string;
  readonly ref: Identifier;
  readonly template: TaskTemplate;
  /** The node's template node (its retries override the task's). */
  readonly node?: Node;
  readonly logs?: TaskLog[];
}

/**
 * A failed attempt: retried as the next attempt while the budget allows, else the node fails. Used for task
 * failures and for attempts whose replica was lost.
 */
export async function recordFailure(
  ctx: EngineContext,
  trx: Knex,
  exec: ExecutionRow,
  node: NodeExecutionRow,
  a: AttemptRecord,
  failure: { error: ExecutionError; permanent?: boolean; deckUri?: string },
): Promise<void> {
  const { item, ref, template } = a;
  const taskType = template.type;
  const logs = a.logs ?? [];
  const verdict = retryVerdict(
    failure.error,
    failure.permanent === true,
    item.attempt,
    await systemFailures(trx, node.id),
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
    return;
  }
  await ctx.taskEvent(trx, exec, item.node_id, ref, item.attempt, TaskPhase.FAILED, {
    error: failure.error,
    taskType,
    logs,
  });
  const inputs = decodeLiteralMap(
    node.input_uri === "" ? undefined : await ctx.readData(trx, node.input_uri),
  );
  const key = cacheKey(ref, template, inputs);
  if (key !== undefined) await releaseCacheKey(trx, key, `${exec.id}/${item.node_id}`);
  await ctx.nodeEvent(trx, exec, item.node_id, NodePhase.FAILED, {
    error: verdict.nodeError,
    checkpointUri: attemptPlaces(ctx, exec, item.node_id, item.attempt).checkpoint,
    ...(failure.deckUri === undefined ? {} : { deckUri: failure.deckUri }),
  });
  await enqueueEvaluation(trx, exec.id);
  ctx.batch(trx).notifyWatchers(exec.id);
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
  const inputs = decodeLiteralMap(
    node.input_uri === "" ? undefined : await ctx.readData(trx, node.input_uri),
  );
  const key = cacheKey(ref, template, inputs);
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
  await enqueueEvaluation(trx, exec.id);
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
): Promise<void> {
  const { item, ref, template } = a;
  if ("error" in compiled) {
    await recordFailure(ctx, trx, exec, node, a, { error: compiled.error, permanent: true });
    return;
  }
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
  await enqueueEvaluation(trx, exec.id);
  ctx.batch(trx).notifyWatchers(exec.id);
}

export async function recordResult(
  ctx: EngineContext,
  a: AttemptRecord,
  result: TaskResult,
  store?: (trx: Knex, exec: ExecutionRow) => Promise<TaskLog[]>,
): Promise<void> {
  const { item, owner } = a;
  // A dynamic workflow is compiled before the transaction (it may take a while and needs no lock).
  let compiled: Awaited<ReturnType<typeof compileDynamic>> | undefined;
  if (result.ok && "dynamic" in result) {
    const exec = await ctx.db("executions").where({ id: item.execution_id }).first();
    if (exec === undefined) return;
    compiled = await compileDynamic(ctx, exec as ExecutionRow, item.node_id, a.template, result.dynamic);
  }
  await ctx.transaction(async (trx) => {
    const exec = await ctx.lockExecution(trx, item.execution_id);
    if (!(await completeWork(trx, item.id, owner)) || exec === undefined) return; // lease lost: the new owner records it
    const node = await ctx.batch(trx).storedNode(exec.id, item.node_id);
    if (node === undefined || node.phase !== "RUNNING") return; // aborted meanwhile
    const logs = store === undefined ? [] : await store(trx, exec);
    const rec = { ...a, logs };
    if (!result.ok) await recordFailure(ctx, trx, exec, node, rec, result);
    else if ("outputs" in result) await recordSuccess(ctx, trx, exec, node, rec, result);
    else if (compiled !== undefined) await recordDynamic(ctx, trx, exec, node, rec, result, compiled);
  });
}
