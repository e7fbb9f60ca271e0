// Array nodes (map tasks): the sub-node runs once per element of the collection inputs, as children
// `<node>-<index>` of the array node, at most `parallelism` at a time; the node succeeds when enough elements
// succeed (min_successes / min_success_ratio), with outputs collected in input order (none for failed elements).
import { create } from "@bufbuild/protobuf";
import type { Knex } from "knex";
import { CatalogCacheStatus } from "../../gen/flyteidl/core/catalog_pb.js";
import {
  ExecutionError_ErrorKind,
  ExecutionErrorSchema,
  NodeExecution_Phase as NodePhase,
  TaskExecution_Phase as TaskPhase,
} from "../../gen/flyteidl/core/execution_pb.js";
import type { Identifier } from "../../gen/flyteidl/core/identifier_pb.js";
import {
  type Literal,
  type LiteralMap,
  LiteralMapSchema,
  LiteralSchema,
} from "../../gen/flyteidl/core/literals_pb.js";
import type { TaskTemplate } from "../../gen/flyteidl/core/tasks_pb.js";
import type { Node } from "../../gen/flyteidl/core/workflow_pb.js";
import {
  ExternalResourceInfoSchema,
  TaskExecutionMetadataSchema,
} from "../../gen/flyteidl/event/event_pb.js";
import { idKey } from "../compiler/interfaces.js";
import type { ExecutionRow } from "../repositories/execution-repo.js";
import type { NodeExecutionRow } from "../repositories/node-execution-repo.js";
import { decodeLiteralMap } from "../transformers/literals.js";
import type { EngineContext, Placement } from "./engine-context.js";
import { OffloadedLiteralError, resolveOffloaded } from "./offloaded.js";
import type { NodeState } from "./plan.js";

export type StartElement = (node: Node, inputs: LiteralMap, placement: Placement) => Promise<boolean>;

const NONE = create(LiteralSchema, {
  value: { case: "scalar", value: { value: { case: "noneType", value: {} } } },
});

/** Element i's inputs: the i-th item of each collection input; other inputs are passed as they are. */
export function elementInputs(inputs: LiteralMap, i: number): LiteralMap {
  const literals: Record<string, Literal> = {};
  for (const [k, v] of Object.entries(inputs.literals)) {
    literals[k] = v.value.case === "collection" ? (v.value.value.literals[i] ?? NONE) : v;
  }
  return create(LiteralMapSchema, { literals });
}

export function elementCount(inputs: LiteralMap): number {
  const sizes = Object.values(inputs.literals).flatMap((v) =>
    v.value.case === "collection" ? [v.value.value.literals.length] : [],
  );
  return sizes.length === 0 ? 0 : Math.min(...sizes);
}

export function requiredSuccesses(node: Node, n: number): number {
  const a = node.target.case === "arrayNode" ? node.target.value : undefined;
  if (a?.successCriteria.case === "minSuccesses") return Math.min(n, a.successCriteria.value);
  const ratio = a?.successCriteria.case === "minSuccessRatio" ? a.successCriteria.value : 1;
  return Math.ceil(ratio * n - 1e-9);
}

const DONE = new Set(["SUCCEEDED", "RECOVERED", "FAILED", "TIMED_OUT", "ABORTED", "SKIPPED"]);

export interface ArrayStep {
  readonly states: (rows: readonly NodeExecutionRow[]) => Promise<Map<string, NodeState>>;
  readonly start: StartElement;
  /** Task nodes the execution may still start under max_parallelism (array elements count, as in Flyte). */
  readonly budget: number;
  /** The task the elements run (its declared outputs become collections, empty without elements). */
  readonly subTask: SubTask | undefined;
}

/** One step of a running array node; true when anything changed. */
export async function stepArray(
  ctx: EngineContext,
  trx: Knex,
  exec: ExecutionRow,
  row: NodeExecutionRow,
  spec: Node,
  children: readonly NodeExecutionRow[],
  step: ArrayStep,
): Promise<boolean> {
  const { states, start, budget } = step;
  const a = spec.target.case === "arrayNode" ? spec.target.value : undefined;
  const sub = a?.node;
  if (a === undefined || sub === undefined) return false;
  let inputs: LiteralMap;
  try {
    inputs = await resolveOffloaded(
      ctx.data.blobs,
      decodeLiteralMap(row.input_uri === "" ? undefined : await ctx.readData(trx, row.input_uri)),
    );
  } catch (err) {
    if (!(err instanceof OffloadedLiteralError)) throw err;
    const error = create(ExecutionErrorSchema, {
      code: "OffloadedLiteralUnreadable",
      message: err.message,
      kind: ExecutionError_ErrorKind.USER,
    });
    await ctx.nodeEvent(trx, exec, row.node_id, NodePhase.FAILED, { error });
    return true;
  }
  const n = elementCount(inputs);
  const byId = new Map(children.map((c) => [c.node_id, c]));
  const running = children.filter((c) => !DONE.has(c.phase)).length;
  const limit =
    a.parallelismOption.case === "parallelism" && a.parallelismOption.value > 0
      ? a.parallelismOption.value
      : n;
  let slots = Math.min(limit - running, budget);
  let changed = false;
  if (children.length === 0 && n > 0 && step.subTask !== undefined)
    await recordElements(ctx, trx, exec, row, step.subTask, [], TaskPhase.RUNNING);
  for (let i = 0; i < n && slots > 0; i++) {
    const id = `${row.node_id}-${i}`;
    if (byId.has(id)) continue;
    const finished = await start({ ...sub, id }, elementInputs(inputs, i), {
      parentNodeId: row.node_id,
      specNodeId: sub.id,
    });
    if (!finished) slots--; // elements a synchronous plugin finished at once (echo) hold no slot
    changed = true;
  }
  if (changed || children.length < n || running > 0) return changed;
  const done = await states(children);
  const ordered = Array.from({ length: n }, (_, i) => done.get(`${row.node_id}-${i}`));
  const successes = ordered.filter((s) => s?.status === "succeeded").length;
  const need = requiredSuccesses(spec, n);
  if (step.subTask !== undefined) {
    const ok = successes >= need ? TaskPhase.SUCCEEDED : TaskPhase.FAILED;
    const elements = Array.from({ length: n }, (_, i) => byId.get(`${row.node_id}-${i}`));
    await recordElements(ctx, trx, exec, row, step.subTask, elements, ok);
  }
  if (successes < need) {
    const error = create(ExecutionErrorSchema, {
      code: "ArrayNodeFailed",
      message: `${successes} of ${n} elements succeeded; at least ${need} were required`,
      kind: ExecutionError_ErrorKind.USER,
    });
    await ctx.nodeEvent(trx, exec, row.node_id, NodePhase.FAILED, { error });
    return true;
  }
  const outputNames = new Set([
    ...Object.keys(step.subTask?.template.interface?.outputs?.variables ?? {}),
    ...ordered.flatMap((s) => Object.keys(s?.outputs?.literals ?? {})),
  ]);
  const literals: Record<string, Literal> = {};
  for (const name of outputNames) {
    literals[name] = create(LiteralSchema, {
      value: {
        case: "collection",
        value: { literals: ordered.map((s) => s?.outputs?.literals[name] ?? NONE) },
      },
    });
  }
  await ctx.nodeEvent(trx, exec, row.node_id, NodePhase.SUCCEEDED, {
    outputs: create(LiteralMapSchema, { literals }),
  });
  return true;
}

export interface SubTask {
  readonly id: Identifier;
  readonly template: TaskTemplate;
}

/** The task an array node's sub-node runs. */
export function arraySubTask(spec: Node, tasks: ReadonlyMap<string, TaskTemplate>): SubTask | undefined {
  const sub = spec.target.case === "arrayNode" ? spec.target.value.node : undefined;
  const ref = sub?.target.case === "taskNode" ? sub.target.value.reference : undefined;
  if (ref?.case !== "referenceId") return undefined;
  const template = tasks.get(idKey(ref.value));
  return template === undefined ? undefined : { id: ref.value, template };
}

const TASK_PHASES: Record<string, TaskPhase> = {
  QUEUED: TaskPhase.QUEUED,
  RUNNING: TaskPhase.RUNNING,
  SUCCEEDED: TaskPhase.SUCCEEDED,
  RECOVERED: TaskPhase.SUCCEEDED,
  FAILED: TaskPhase.FAILED,
  TIMED_OUT: TaskPhase.FAILED,
  ABORTED: TaskPhase.ABORTED,
};

/**
 * The array node's own task execution, as Flyte's array plugin reports it: one attempt whose
 * `metadata.external_resources` lists every element (index, last attempt, phase, cache status).
 */
async function recordElements(
  ctx: EngineContext,
  trx: Knex,
  exec: ExecutionRow,
  row: NodeExecutionRow,
  task: SubTask,
  elements: readonly (NodeExecutionRow | undefined)[],
  phase: TaskPhase,
): Promise<void> {
  let attempts = new Map<string, number>();
  if (elements.length > 0) {
    await ctx.batch(trx).flush(); // element attempts may still be in the batch
    const rows = (await trx("task_executions as te")
      .join("node_executions as ne", "ne.id", "te.node_execution_id")
      .where("ne.parent_id", row.id)
      .groupBy("ne.node_id")
      .select("ne.node_id", trx.raw("max(te.retry_attempt) as attempt"))) as {
      node_id: string;
      attempt: number;
    }[];
    attempts = new Map(rows.map((r) => [r.node_id, Number(r.attempt)]));
  }
  const externalResources = elements.map((e, index) =>
    create(ExternalResourceInfoSchema, {
      externalId: `${exec.execution_name}-${e?.node_id ?? `${row.node_id}-${index}`}`,
      index,
      retryAttempt: attempts.get(e?.node_id ?? "") ?? 0,
      phase: TASK_PHASES[e?.phase ?? ""] ?? TaskPhase.UNDEFINED,
      cacheStatus:
        CatalogCacheStatus[e?.cache_status as keyof typeof CatalogCacheStatus] ??
        CatalogCacheStatus.CACHE_DISABLED,
    }),
  );
  await ctx.taskEvent(trx, exec, row.node_id, task.id, 0, phase, {
    taskType: task.template.type,
    metadata: create(TaskExecutionMetadataSchema, { externalResources, pluginIdentifier: "array" }),
  });
}
