// Dynamic nodes (flytekit's @dynamic): a task attempt that leaves a futures.pb (a DynamicJobSpec) instead of outputs
// has its spec compiled into a workflow whose interface is the task's outputs; the node reports it (DYNAMIC_RUNNING,
// is_dynamic, the compiled workflow) and runs it under itself; the workflow's outputs become the node's. A child
// that fails fails the node for good; a dynamic child repeats all of this one level down.
import { create, fromBinary } from "@bufbuild/protobuf";
import type { Knex } from "knex";
import { WorkflowSpecSchema } from "../../gen/flyteidl/admin/workflow_pb.js";
import { CatalogCacheStatus } from "../../gen/flyteidl/core/catalog_pb.js";
import {
  type CompiledWorkflowClosure,
  CompiledWorkflowClosureSchema,
} from "../../gen/flyteidl/core/compiler_pb.js";
import type { DynamicJobSpec } from "../../gen/flyteidl/core/dynamic_job_pb.js";
import {
  type ExecutionError,
  ExecutionError_ErrorKind,
  ExecutionErrorSchema,
  NodeExecution_Phase as NodePhase,
} from "../../gen/flyteidl/core/execution_pb.js";
import { type Identifier, IdentifierSchema, ResourceType } from "../../gen/flyteidl/core/identifier_pb.js";
import { LiteralMapSchema } from "../../gen/flyteidl/core/literals_pb.js";
import type { TaskTemplate } from "../../gen/flyteidl/core/tasks_pb.js";
import { idKey } from "../compiler/interfaces.js";
import { loadCompileDeps } from "../managers/compile-deps.js";
import type { ExecutionRow } from "../repositories/execution-repo.js";
import type { NodeExecutionRow } from "../repositories/node-execution-repo.js";
import { putCachedOutputs, releaseCacheKey } from "../repositories/task-cache-repo.js";
import { decodeLiteralMap, encodeLiteralMap } from "../transformers/literals.js";
import { cacheKey } from "./cache-key.js";
import type { EngineContext } from "./engine-context.js";
import type { ExecutionView } from "./execution-view.js";
import { tasksOf } from "./specs.js";
import { stepNested } from "./sub-workflows.js";

/** Dynamic nodes nested deeper than this fail (a dynamic task that always returns itself would never end). */
export const MAX_DYNAMIC_DEPTH = 50;

const buildFailed = (message: string): ExecutionError =>
  create(ExecutionErrorSchema, {
    code: "DynamicWorkflowBuildFailed",
    message,
    kind: ExecutionError_ErrorKind.USER,
  });

const VERSION_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789";

/** The compiled workflow of a dynamic task's spec, or why it cannot run (a permanent user error). */
export async function compileDynamic(
  ctx: EngineContext,
  exec: ExecutionRow,
  nodeId: string,
  template: TaskTemplate,
  spec: DynamicJobSpec,
): Promise<{ closure: CompiledWorkflowClosure } | { error: ExecutionError }> {
  if (ctx.compiler === undefined) return { error: buildFailed("this engine has no compiler") };
  const version = Array.from(
    { length: 10 },
    () => VERSION_CHARS[Math.floor(Math.random() * VERSION_CHARS.length)],
  ).join("");
  const id = create(IdentifierSchema, {
    resourceType: ResourceType.WORKFLOW,
    project: exec.execution_project,
    domain: exec.execution_domain,
    name: `dynamic_${nodeId}`,
    version,
  });
  const workflow = create(WorkflowSpecSchema, {
    template: {
      id,
      interface: { outputs: template.interface?.outputs ?? {} },
      nodes: spec.nodes,
      outputs: spec.outputs,
    },
    subWorkflows: spec.subworkflows,
  });
  const loaded = await loadCompileDeps(ctx.db, workflow, spec.tasks);
  if ("missing" in loaded) return { error: buildFailed(loaded.missing) };
  const result = await ctx.compiler.compile(workflow, loaded.deps);
  if ("errors" in result) return { error: buildFailed(result.errors) };
  return { closure: fromBinary(CompiledWorkflowClosureSchema, result.closure) };
}

/** The attempt whose dynamic workflow a dynamic node runs (its last one), memoised per view. */
const attempts = new WeakMap<ExecutionView, Map<string, number>>();

async function dynamicAttempt(trx: Knex, view: ExecutionView, row: NodeExecutionRow): Promise<number> {
  let known = attempts.get(view);
  if (known === undefined) {
    known = new Map();
    attempts.set(view, known);
  }
  const cached = known.get(row.id);
  if (cached !== undefined) return cached;
  const r = (await trx("task_executions")
    .where({ node_execution_id: row.id })
    .max({ attempt: "retry_attempt" })
    .first()) as { attempt: number | null } | undefined;
  const attempt = Number(r?.attempt ?? 0);
  known.set(row.id, attempt);
  return attempt;
}

/** How many dynamic nodes a row runs under. */
function dynamicDepth(view: ExecutionView, row: NodeExecutionRow): number {
  let depth = 0;
  for (let r: NodeExecutionRow | undefined = row; r !== undefined; ) {
    if (r.dynamic_workflow_uri !== "") depth++;
    r = r.parent_id === null ? undefined : view.rowById(r.parent_id);
  }
  return depth;
}

/** The task a dynamic node's row runs (its id and template), for its cache entry. */
function parentTask(
  view: ExecutionView,
  row: NodeExecutionRow,
): { ref: Identifier; template: TaskTemplate } | undefined {
  const spec = view.spec(row);
  const ref =
    spec?.target.case === "taskNode" && spec.target.value.reference.case === "referenceId"
      ? spec.target.value.reference.value
      : undefined;
  const template = ref === undefined ? undefined : view.tasksOf(row).get(idKey(ref));
  return ref === undefined || template === undefined ? undefined : { ref, template };
}

/** One step of a dynamic node's workflow; true when anything changed. */
export async function stepDynamic(
  ctx: EngineContext,
  trx: Knex,
  exec: ExecutionRow,
  row: NodeExecutionRow,
  view: ExecutionView,
): Promise<boolean> {
  const closure = view.dynamicOf(row);
  const workflow = closure?.primary;
  if (closure === undefined || workflow === undefined) return false;
  const task = parentTask(view, row);
  const inputs = decodeLiteralMap(row.input_uri === "" ? undefined : await ctx.readData(trx, row.input_uri));
  const key = task === undefined ? undefined : cacheKey(task.ref, task.template, inputs);
  const owner = `${exec.id}/${row.node_id}`;
  if (dynamicDepth(view, row) > MAX_DYNAMIC_DEPTH) {
    const error = buildFailed(`dynamic nodes nest more than ${MAX_DYNAMIC_DEPTH} levels deep`);
    if (key !== undefined) await releaseCacheKey(trx, key, owner);
    await ctx.nodeEvent(trx, exec, row.node_id, NodePhase.FAILED, { error });
    return true;
  }
  const attempt = await dynamicAttempt(trx, view, row);
  return stepNested(ctx, trx, exec, row, view, {
    workflow,
    inputs: create(LiteralMapSchema),
    tasks: tasksOf(closure),
    attempt,
    placement: {
      inDynamicChain: true,
      retryGroup: String(attempt),
      ...(task === undefined ? {} : { parentTask: { taskId: task.ref, nodeId: row.node_id, attempt } }),
    },
    succeed: async (outputs) => {
      // Cached as one task, once its whole workflow succeeded.
      if (key !== undefined) {
        await putCachedOutputs(trx, key, Buffer.from(encodeLiteralMap(outputs)), exec.execution_name);
        await releaseCacheKey(trx, key, owner);
      }
      await ctx.nodeEvent(trx, exec, row.node_id, NodePhase.SUCCEEDED, {
        outputs,
        ...(key === undefined ? {} : { cacheStatus: CatalogCacheStatus.CACHE_POPULATED }),
      });
    },
    fail: async (error) => {
      if (key !== undefined) await releaseCacheKey(trx, key, owner);
      await ctx.nodeEvent(trx, exec, row.node_id, NodePhase.FAILED, { error });
    },
  });
}
