// Runs one task attempt claimed from the queue: the plugin runs under a heartbeated lease (run-attempt.ts), and the
// result is recorded in one transaction that also proves this process still owns the lease (so a result is never
// recorded twice, even when a crashed replica's work was taken over).
import { create, fromBinary } from "@bufbuild/protobuf";
import type { Knex } from "knex";
import { TaskExecutionClosureSchema } from "../../gen/flyteidl/admin/task_execution_pb.js";
import { CatalogCacheStatus } from "../../gen/flyteidl/core/catalog_pb.js";
import {
  ExecutionError_ErrorKind,
  ExecutionErrorSchema,
  NodeExecution_Phase as NodePhase,
  type TaskLog,
  TaskLogSchema,
  TaskExecution_Phase as TaskPhase,
} from "../../gen/flyteidl/core/execution_pb.js";
import type { Identifier } from "../../gen/flyteidl/core/identifier_pb.js";
import type { TaskTemplate } from "../../gen/flyteidl/core/tasks_pb.js";
import { idKey } from "../compiler/interfaces.js";
import type { ExecutionRow } from "../repositories/execution-repo.js";
import {
  getNodeExecution,
  getNodeExecutionById,
  type NodeExecutionRow,
} from "../repositories/node-execution-repo.js";
import { putCachedOutputs, releaseCacheKey } from "../repositories/task-cache-repo.js";
import { getTaskExecution } from "../repositories/task-execution-repo.js";
import {
  completeWork,
  enqueueEvaluation,
  enqueueTask,
  releaseWork,
  type WorkItemRow,
} from "../repositories/work-repo.js";
import {
  attemptLogUri,
  attemptOutputDir,
  attemptOutputsUri,
  defaultRawPrefix,
  rawSandbox,
} from "../storage/layout.js";
import {
  decodeExecSpec,
  executionKey,
  TERMINAL_WORKFLOW_PHASES,
  workflowPhase,
} from "../transformers/execution.js";
import { decodeLiteralMap, encodeLiteralMap } from "../transformers/literals.js";
import { cacheKey } from "./cache-key.js";
import type { EngineContext } from "./engine-context.js";
import { workerQueue } from "./node-actions.js";
import type { TaskResult } from "./plugins/plugin.js";
import { runPlugin } from "./run-attempt.js";
import { findSpec } from "./specs.js";

const RETRY_BACKOFF_MS = 200;

export async function taskOf(
  ctx: EngineContext,
  db: Knex,
  workflowRowId: string,
  executionId: string,
  nodeId: string,
) {
  const closure = await ctx.compiledWorkflow(db, workflowRowId);
  // The node's row and its ancestors' (the spec of a nested node is found through its parents'), not every row.
  const row = await getNodeExecution(db, executionId, nodeId);
  const ancestors = new Map<string, NodeExecutionRow>();
  for (let parent = row?.parent_id ?? null; parent !== null && !ancestors.has(parent); ) {
    const p = await getNodeExecutionById(db, parent);
    if (p === undefined) break;
    ancestors.set(parent, p);
    parent = p.parent_id;
  }
  const node = row === undefined ? undefined : findSpec(closure, (id) => ancestors.get(id), row);
  const ref =
    node?.target.case === "taskNode" && node.target.value.reference.case === "referenceId"
      ? node.target.value.reference.value
      : undefined;
  const template = closure.tasks.find(
    (t) => ref !== undefined && idKey(t.template?.id) === idKey(ref),
  )?.template;
  return { ref, template };
}

const MAX_SYSTEM_RETRIES = 3;

/**
 * The attempt was RUNNING on a replica that stopped heartbeating (crashed or lost): a system failure. It is recorded
 * as such and the task runs again as the next attempt, within a budget of system retries.
 */
export async function retryLostAttempt(
  ctx: EngineContext,
  item: WorkItemRow,
  owner: string,
  ref: Identifier,
  template: TaskTemplate,
): Promise<void> {
  await ctx.transaction(async (trx) => {
    const exec = await ctx.lockExecution(trx, item.execution_id);
    if (!(await completeWork(trx, item.id, owner)) || exec === undefined) return;
    const error = create(ExecutionErrorSchema, {
      code: "LostWorker",
      message: `attempt ${item.attempt} stopped reporting (its replica was lost); retrying`,
      kind: ExecutionError_ErrorKind.SYSTEM,
    });
    const systemFailures = (await trx("task_executions as te")
      .join("node_executions as ne", "ne.id", "te.node_execution_id")
      .where({ "ne.execution_id": exec.id, "ne.node_id": item.node_id, "te.phase": "RETRYABLE_FAILED" })
      .count({ n: "*" })) as { n: string }[];
    if (Number(systemFailures[0]?.n ?? 0) >= MAX_SYSTEM_RETRIES) {
      await ctx.taskEvent(trx, exec, item.node_id, ref, item.attempt, TaskPhase.FAILED, {
        error,
        taskType: template.type,
      });
      await ctx.nodeEvent(trx, exec, item.node_id, NodePhase.FAILED, { error });
      await enqueueEvaluation(trx, exec.id);
    } else {
      await ctx.taskEvent(trx, exec, item.node_id, ref, item.attempt, TaskPhase.RETRYABLE_FAILED, {
        error,
        taskType: template.type,
      });
      await ctx.taskEvent(trx, exec, item.node_id, ref, item.attempt + 1, TaskPhase.QUEUED, {
        taskType: template.type,
      });
      await enqueueTask(trx, exec.id, item.node_id, item.attempt + 1, 0, workerQueue(template));
    }
    ctx.batch(trx).notifyWatchers(exec.id);
  });
}

export async function runTaskItem(ctx: EngineContext, item: WorkItemRow, owner: string): Promise<void> {
  const exec = await ctx.db("executions").where({ id: item.execution_id }).first();
  const node = exec === undefined ? undefined : await getNodeExecution(ctx.db, exec.id, item.node_id);
  if (
    exec === undefined ||
    node === undefined ||
    TERMINAL_WORKFLOW_PHASES.has(workflowPhase(exec.phase)) ||
    node.phase !== "RUNNING"
  ) {
    await completeWork(ctx.db, item.id, owner);
    return;
  }
  const { ref, template } = await taskOf(ctx, ctx.db, exec.workflow_id, exec.id, item.node_id);
  if (ref === undefined || template === undefined)
    throw new Error(`task of node ${item.node_id} not found in the compiled workflow`);
  const key = {
    node_execution_id: node.id,
    project: ref.project,
    domain: ref.domain,
    name: ref.name,
    version: ref.version,
    retry_attempt: item.attempt,
  };
  if ((await getTaskExecution(ctx.db, key))?.phase === "RUNNING") {
    await retryLostAttempt(ctx, item, owner, ref, template);
    return;
  }
  await ctx.transaction(async (trx) => {
    const locked = await ctx.lockExecution(trx, exec.id);
    if (locked !== undefined) {
      await ctx.taskEvent(trx, locked, item.node_id, ref, item.attempt, TaskPhase.RUNNING, {
        taskType: template.type,
      });
      ctx.batch(trx).notifyWatchers(locked.id);
    }
  });
  const inputs = decodeLiteralMap(
    node.input_uri === "" ? undefined : await ctx.data.get(ctx.db, node.input_uri),
  );
  const envs = Object.fromEntries((decodeExecSpec(exec).envs?.values ?? []).map((kv) => [kv.key, kv.value]));
  const place = executionKey(exec);
  const root = ctx.data.root;
  const rawPrefix = decodeExecSpec(exec).rawOutputDataConfig?.outputLocationPrefix || defaultRawPrefix(root);
  const result = await runPlugin(ctx, item, owner, template, {
    template,
    inputs,
    executionName: exec.execution_name,
    project: exec.execution_project,
    domain: exec.execution_domain,
    nodeId: item.node_id,
    attempt: item.attempt,
    envs,
    io: {
      store: ctx.data.blobs,
      inputUri: node.input_uri,
      outputPrefix: attemptOutputDir(root, place, item.node_id, item.attempt),
      rawPrefix: rawSandbox(rawPrefix, place, item.node_id, item.attempt),
    },
  });
  if (ctx.stopping && !result.ok) {
    // Interrupted because this engine stops, not failed: the attempt goes back to the queue. The next engine sees
    // it RUNNING and runs it again as a lost attempt (a system retry).
    await releaseWork(ctx.db, item.id, owner).catch((err: unknown) =>
      ctx.logger.warn("handing an interrupted attempt back failed; its lease will expire", { error: err }),
    );
    return;
  }
  await recordResult(ctx, item, owner, ref, template, result);
}

/** Stores stdout/stderr of an attempt and returns TaskLog links served by the HTTP port. */
async function storeLogs(
  ctx: EngineContext,
  trx: Knex,
  exec: ExecutionRow,
  item: WorkItemRow,
  result: TaskResult,
): Promise<TaskLog[]> {
  if (result.logs === undefined) return [];
  const links: TaskLog[] = [];
  for (const stream of ["stdout", "stderr"] as const) {
    const parts = [
      exec.execution_project,
      exec.execution_domain,
      exec.execution_name,
      item.node_id,
      String(item.attempt),
      stream,
    ];
    const uri = attemptLogUri(ctx.data.root, executionKey(exec), item.node_id, item.attempt, stream);
    ctx.batch(trx).addBlobs([{ uri, data: new TextEncoder().encode(result.logs[stream]) }]);
    links.push(
      create(TaskLogSchema, {
        name: stream,
        uri: `${ctx.logBaseUrl}/api/v1/logs/${parts.map(encodeURIComponent).join("/")}`,
      }),
    );
  }
  return links;
}

/** Earlier attempts of a node that failed with a user (not system) error. */
async function userFailures(trx: Knex, nodeExecutionId: string): Promise<number> {
  const rows = (await trx("task_executions")
    .select("closure")
    .where({ node_execution_id: nodeExecutionId, phase: "RETRYABLE_FAILED" })) as {
    closure: Buffer;
  }[];
  return rows.filter((r) => {
    const out = fromBinary(TaskExecutionClosureSchema, r.closure).outputResult;
    return out.case === "error" && out.value.kind !== ExecutionError_ErrorKind.SYSTEM;
  }).length;
}

export async function recordResult(
  ctx: EngineContext,
  item: WorkItemRow,
  owner: string,
  ref: Identifier,
  template: TaskTemplate,
  result: TaskResult,
): Promise<void> {
  await ctx.transaction(async (trx) => {
    const exec = await ctx.lockExecution(trx, item.execution_id);
    if (!(await completeWork(trx, item.id, owner)) || exec === undefined) return; // lease lost: the new owner records it
    const node = await ctx.batch(trx).storedNode(exec.id, item.node_id);
    if (node === undefined || node.phase !== "RUNNING") return; // aborted meanwhile
    const logs = await storeLogs(ctx, trx, exec, item, result);
    if (result.ok) {
      await ctx.taskEvent(trx, exec, item.node_id, ref, item.attempt, TaskPhase.SUCCEEDED, {
        outputs: result.outputs,
        taskType: template.type,
        logs,
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
        ...(key === undefined ? {} : { cacheStatus: CatalogCacheStatus.CACHE_POPULATED }),
      });
    } else {
      const retries = template.metadata?.retries?.retries ?? 0;
      // User retries are counted apart from system ones (lost workers), as Flyte does.
      if ((await userFailures(trx, node.id)) < retries) {
        await ctx.taskEvent(trx, exec, item.node_id, ref, item.attempt, TaskPhase.RETRYABLE_FAILED, {
          error: result.error,
          taskType: template.type,
          logs,
        });
        await ctx.taskEvent(trx, exec, item.node_id, ref, item.attempt + 1, TaskPhase.QUEUED, {
          taskType: template.type,
        });
        await enqueueTask(
          trx,
          exec.id,
          item.node_id,
          item.attempt + 1,
          RETRY_BACKOFF_MS * 2 ** item.attempt,
          workerQueue(template),
        );
        ctx.batch(trx).notifyWatchers(exec.id);
        return;
      }
      await ctx.taskEvent(trx, exec, item.node_id, ref, item.attempt, TaskPhase.FAILED, {
        error: result.error,
        taskType: template.type,
        logs,
      });
      const failedInputs = decodeLiteralMap(
        node.input_uri === "" ? undefined : await ctx.readData(trx, node.input_uri),
      );
      const failedKey = cacheKey(ref, template, failedInputs);
      if (failedKey !== undefined) await releaseCacheKey(trx, failedKey, `${exec.id}/${item.node_id}`);
      await ctx.nodeEvent(trx, exec, item.node_id, NodePhase.FAILED, { error: result.error });
    }
    await enqueueEvaluation(trx, exec.id);
    ctx.batch(trx).notifyWatchers(exec.id);
  });
}
