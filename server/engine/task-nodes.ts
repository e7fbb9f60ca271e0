// Task nodes: the cache (a hit ends the node; a serializable cache is reserved while one owner computes it),
// then attempt 0 — run at once for synchronous plugins, else queued for a runner or an external worker.
import type { Knex } from "knex";
import { CatalogCacheStatus } from "../../gen/flyteidl/core/catalog_pb.js";
import {
  NodeExecution_Phase as NodePhase,
  TaskExecution_Phase as TaskPhase,
} from "../../gen/flyteidl/core/execution_pb.js";
import type { Identifier } from "../../gen/flyteidl/core/identifier_pb.js";
import type { LiteralMap } from "../../gen/flyteidl/core/literals_pb.js";
import type { TaskTemplate } from "../../gen/flyteidl/core/tasks_pb.js";
import type { Node } from "../../gen/flyteidl/core/workflow_pb.js";
import { idKey } from "../compiler/interfaces.js";
import { publishAttempt } from "../metrics/engine-events.js";
import type { ExecutionRow } from "../repositories/execution-repo.js";
import type { NodeExecutionRow } from "../repositories/node-execution-repo.js";
import {
  getCachedOutputs,
  putCachedOutputs,
  releaseCacheKey,
  reserveCacheKey,
} from "../repositories/task-cache-repo.js";
import { enqueueEvaluation, enqueueTask } from "../repositories/work-repo.js";
import { attemptOutputsUri } from "../storage/layout.js";
import { decodeExecSpec, executionKey } from "../transformers/execution.js";
import { decodeLiteralMap, encodeLiteralMap } from "../transformers/literals.js";
import { cacheKey } from "./cache-key.js";
import type { EngineContext, Placement } from "./engine-context.js";
import { durationMs } from "./gates.js";
import { echoPlugin } from "./plugins/echo-plugin.js";

/** Starts a task node running task `taskId` (its template from `tasks`) on `inputs`. */
export async function startTaskNode(
  ctx: EngineContext,
  trx: Knex,
  exec: ExecutionRow,
  node: Node,
  taskId: Identifier,
  inputs: LiteralMap,
  tasks: ReadonlyMap<string, TaskTemplate>,
  under: Placement,
): Promise<boolean> {
  const template = tasks.get(idKey(taskId));
  const key = template === undefined ? undefined : cacheKey(taskId, template, inputs);
  if (key !== undefined && !decodeExecSpec(exec).overwriteCache) {
    const cached = await getCachedOutputs(trx, key);
    if (cached !== undefined) {
      await ctx.nodeEvent(trx, exec, node.id, NodePhase.QUEUED, { inputs, ...under });
      const outputs = decodeLiteralMap(cached);
      await ctx.nodeEvent(trx, exec, node.id, NodePhase.SUCCEEDED, {
        outputs,
        cacheStatus: CatalogCacheStatus.CACHE_HIT,
      });
      return true;
    }
  }
  await ctx.nodeEvent(trx, exec, node.id, NodePhase.QUEUED, { inputs, ...under });
  if (key !== undefined && template?.metadata?.cacheSerializable === true) {
    const claim = await reserveOrHit(trx, exec, key, `${exec.id}/${node.id}`, true);
    if (claim === "busy") {
      await enqueueEvaluation(trx, exec.id, RESERVATION_POLL_MS);
      return false; // another execution computes this key; resumeWaitingTask picks the node up
    }
    if (claim !== "reserved") return cacheHit(ctx, trx, exec, node.id, claim);
  }
  const nested = under.parentNodeId !== undefined || under.parentTask !== undefined;
  return runTaskNode(ctx, trx, exec, node, taskId, template, inputs, key, nested);
}

const RESERVATION_POLL_MS = 250;

/** Tasks of type "worker" wait in a queue named after the task for an external worker. */
export function workerQueue(template: TaskTemplate | undefined): string | null {
  return template?.type === "worker" ? (template.id?.name ?? null) : null;
}

/**
 * RUNNING, attempt 0 queued; synchronous plugins finish inside this transaction (no queue round trip), and a
 * top-level node's local process is handed to this engine when it commits (handed-attempts.ts).
 */
async function runTaskNode(
  ctx: EngineContext,
  trx: Knex,
  exec: ExecutionRow,
  node: Node,
  taskId: Identifier,
  template: TaskTemplate | undefined,
  inputs: LiteralMap,
  key: string | undefined,
  nested: boolean,
): Promise<boolean> {
  const taskType = template?.type ?? "";
  await ctx.nodeEvent(trx, exec, node.id, NodePhase.RUNNING);
  await ctx.taskEvent(trx, exec, node.id, taskId, 0, TaskPhase.QUEUED, { taskType });
  if (template !== undefined && ctx.plugins(template) === echoPlugin) {
    const r = await echoPlugin.run({
      template,
      inputs,
      executionName: exec.execution_name,
      nodeId: node.id,
      attempt: 0,
      envs: {},
      signal: new AbortController().signal,
      workDir: "",
    });
    publishAttempt({ plugin: echoPlugin.name, outcome: r.ok ? "succeeded" : "failed" });
    if (r.ok && "outputs" in r) {
      await ctx.taskEvent(trx, exec, node.id, taskId, 0, TaskPhase.RUNNING, { taskType });
      await ctx.taskEvent(trx, exec, node.id, taskId, 0, TaskPhase.SUCCEEDED, {
        taskType,
        outputs: r.outputs,
      });
      if (key !== undefined) {
        await putCachedOutputs(trx, key, Buffer.from(encodeLiteralMap(r.outputs)), exec.execution_name);
        await releaseCacheKey(trx, key, `${exec.id}/${node.id}`);
      }
      // The node's outputs are its attempt's (stored by the task event above), as in Flyte.
      await ctx.nodeEvent(trx, exec, node.id, NodePhase.SUCCEEDED, {
        outputUri: attemptOutputsUri(ctx.data.root, executionKey(exec), node.id, 0),
        ...(key === undefined ? {} : { cacheStatus: CatalogCacheStatus.CACHE_POPULATED }),
      });
      return true;
    }
  }
  const handed = nested ? undefined : ctx.handed.get(trx);
  const started = template !== undefined && (await handed?.start(trx, exec, node, taskId, template, inputs));
  if (started !== true) await enqueueTask(trx, exec.id, node.id, 0, 0, workerQueue(template));
  const timeout = durationMs(node.metadata?.timeout);
  if (timeout > 0) await enqueueEvaluation(trx, exec.id, timeout);
  return false;
}

/**
 * A serializable cache: the stored outputs, or the reservation to compute them, or "busy" while another owner
 * computes. The cache is read again after a reservation is won, because the previous owner stores its outputs
 * and releases in one commit that can land between a first miss and the reservation. `missed`: the caller has
 * just looked the key up and found nothing.
 */
async function reserveOrHit(
  trx: Knex,
  exec: ExecutionRow,
  key: string,
  owner: string,
  missed = false,
): Promise<Buffer | "reserved" | "busy"> {
  const reuse = !decodeExecSpec(exec).overwriteCache;
  const before = reuse && !missed ? await getCachedOutputs(trx, key) : undefined;
  if (before !== undefined) return before;
  if (!(await reserveCacheKey(trx, key, owner))) return "busy";
  const after = reuse ? await getCachedOutputs(trx, key) : undefined;
  if (after === undefined) return "reserved";
  await releaseCacheKey(trx, key, owner);
  return after;
}

async function cacheHit(ctx: EngineContext, trx: Knex, exec: ExecutionRow, nodeId: string, cached: Buffer) {
  await ctx.nodeEvent(trx, exec, nodeId, NodePhase.SUCCEEDED, {
    outputs: decodeLiteralMap(cached),
    cacheStatus: CatalogCacheStatus.CACHE_HIT,
  });
  return true;
}

/** A task node waiting for a serializable cache: a hit ends it; a free reservation lets it run. */
export async function resumeWaitingTask(
  ctx: EngineContext,
  trx: Knex,
  exec: ExecutionRow,
  spec: Node,
  row: NodeExecutionRow,
  tasks: ReadonlyMap<string, TaskTemplate>,
): Promise<boolean> {
  const t = spec.target;
  if (t.case !== "taskNode" || t.value.reference.case !== "referenceId") return false;
  const taskId = t.value.reference.value;
  const template = tasks.get(idKey(taskId));
  const inputs = decodeLiteralMap(row.input_uri === "" ? undefined : await ctx.readData(trx, row.input_uri));
  const key = template === undefined ? undefined : cacheKey(taskId, template, inputs);
  if (key === undefined) return false;
  const claim = await reserveOrHit(trx, exec, key, `${exec.id}/${row.node_id}`);
  if (claim === "busy") {
    await enqueueEvaluation(trx, exec.id, RESERVATION_POLL_MS);
    return false;
  }
  if (claim !== "reserved") return cacheHit(ctx, trx, exec, row.node_id, claim);
  const node = { ...spec, id: row.node_id };
  return runTaskNode(ctx, trx, exec, node, taskId, template, inputs, key, row.parent_id !== null);
}
