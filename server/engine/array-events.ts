// The array node's own task execution, as Flyte's array plugin reports it (task-contract.md §5.4): one attempt (retry
// 0) of the mapped task whose metadata lists every element as an external resource (index, last attempt, phase, cache
// status). QUEUED carries the array's inputs, SUCCEEDED its gathered outputs, FAILED the summary error; whenever an
// element changed, the phase is sent again with the next phase version.
import { create, equals, fromBinary } from "@bufbuild/protobuf";
import type { Knex } from "knex";
import { TaskExecutionClosureSchema } from "../../gen/flyteidl/admin/task_execution_pb.js";
import { CatalogCacheStatus } from "../../gen/flyteidl/core/catalog_pb.js";
import {
  type ExecutionError,
  TaskExecution_Phase as TaskPhase,
} from "../../gen/flyteidl/core/execution_pb.js";
import type { Identifier } from "../../gen/flyteidl/core/identifier_pb.js";
import type { TaskTemplate } from "../../gen/flyteidl/core/tasks_pb.js";
import {
  type ExternalResourceInfo,
  ExternalResourceInfoSchema,
  TaskExecutionMetadataSchema,
} from "../../gen/flyteidl/event/event_pb.js";
import type { ExecutionRow } from "../repositories/execution-repo.js";
import type { NodeExecutionRow } from "../repositories/node-execution-repo.js";
import { attemptUniqueId } from "../storage/layout.js";
import { executionKey } from "../transformers/execution.js";
import { taskPhase } from "../transformers/node-execution.js";
import type { EngineContext } from "./engine-context.js";

/** The task an array node's sub-node runs. */
export interface SubTask {
  readonly id: Identifier;
  readonly template: TaskTemplate;
}

/** What the array's task execution last said: its phase, phase version and elements. */
export interface ArrayReport {
  readonly phase: TaskPhase;
  readonly version: number;
  readonly resources: readonly ExternalResourceInfo[];
}

/** An element's row as the report needs it: node phase, cache status, and its last attempt (if any). */
interface ElementRow {
  node_id: string;
  node_phase: string;
  cache_status: string;
  retry_attempt: number | null;
  task_phase: string | null;
}

/** The array's elements with their last task attempt (rows written: flush the batch first). */
async function elementRows(trx: Knex, array: NodeExecutionRow): Promise<ElementRow[]> {
  const result = (await trx.raw(
    `SELECT ne.node_id, ne.phase AS node_phase, ne.cache_status, te.retry_attempt, te.phase AS task_phase
       FROM node_executions ne
       LEFT JOIN LATERAL (
         SELECT retry_attempt, phase FROM task_executions
          WHERE node_execution_id = ne.id ORDER BY retry_attempt DESC LIMIT 1
       ) te ON true
      WHERE ne.execution_id = ? AND ne.parent_id = ?`,
    [array.execution_id, array.id],
  )) as { rows: ElementRow[] };
  return result.rows;
}

/** An element without task attempts (not started, a cache hit, recovered, or stopped before it ran). */
const PHASE_WITHOUT_ATTEMPT: Readonly<Record<string, TaskPhase>> = {
  SUCCEEDED: TaskPhase.SUCCEEDED,
  RECOVERED: TaskPhase.SUCCEEDED,
  FAILED: TaskPhase.FAILED,
  TIMED_OUT: TaskPhase.FAILED,
  ABORTED: TaskPhase.ABORTED,
};

function elementResources(exec: ExecutionRow, array: NodeExecutionRow, n: number, rows: ElementRow[]) {
  const byId = new Map(rows.map((r) => [r.node_id, r]));
  return Array.from({ length: n }, (_, index) => {
    const r = byId.get(`${array.node_id}-${index}`);
    const retryAttempt = r?.retry_attempt === null || r === undefined ? 0 : Number(r.retry_attempt);
    const phase =
      r?.task_phase != null
        ? taskPhase(r.task_phase)
        : (PHASE_WITHOUT_ATTEMPT[r?.node_phase ?? ""] ?? TaskPhase.UNDEFINED);
    const uniqueId = attemptUniqueId(executionKey(exec), array.node_id, retryAttempt);
    return create(ExternalResourceInfoSchema, {
      externalId: `${uniqueId}-n${index}-${retryAttempt}`,
      index,
      retryAttempt,
      phase,
      cacheStatus:
        CatalogCacheStatus[r?.cache_status as keyof typeof CatalogCacheStatus] ??
        CatalogCacheStatus.CACHE_DISABLED,
    });
  });
}

/** What was last reported for the array (undefined before its first report), as this transaction sees it. */
export async function lastReport(
  ctx: EngineContext,
  trx: Knex,
  array: NodeExecutionRow,
  task: SubTask,
): Promise<ArrayReport | undefined> {
  const { project, domain, name, version } = task.id;
  const key = { project, domain, name, version, retry_attempt: 0 };
  const row = await ctx.batch(trx).liveAttempt(array.execution_id, array.node_id, key);
  if (row === undefined) return undefined;
  const closure = fromBinary(TaskExecutionClosureSchema, row.closure);
  return {
    phase: taskPhase(row.phase),
    version: row.phase_version,
    resources: closure.metadata?.externalResources ?? [],
  };
}

const sameResources = (a: readonly ExternalResourceInfo[], b: readonly ExternalResourceInfo[]) =>
  a.length === b.length && a.every((r, i) => equals(ExternalResourceInfoSchema, r, b[i] ?? r));

/**
 * Reports the array's task execution in `phase` with its elements as they are now; nothing when that is what was
 * last reported. QUEUED carries the array's inputs; `extra` the gathered outputs (SUCCEEDED) or the error (FAILED).
 */
export async function reportArray(
  ctx: EngineContext,
  trx: Knex,
  exec: ExecutionRow,
  array: { readonly row: NodeExecutionRow; readonly task: SubTask; readonly n: number },
  last: ArrayReport | undefined,
  phase: TaskPhase,
  extra: { readonly outputUri?: string; readonly error?: ExecutionError } = {},
): Promise<ArrayReport> {
  const { row, task, n } = array;
  await ctx.batch(trx).flush();
  const resources = elementResources(exec, row, n, await elementRows(trx, row));
  if (last !== undefined && last.phase === phase && sameResources(last.resources, resources)) return last;
  const version = last?.phase === phase ? last.version + 1 : 0;
  await ctx.taskEvent(trx, exec, row.node_id, task.id, 0, phase, {
    // Flyte's array plugin reports container sub-tasks so; other kinds keep their own type.
    taskType: task.template.target.case === "container" ? "container_array" : task.template.type,
    phaseVersion: version,
    metadata: create(TaskExecutionMetadataSchema, {
      externalResources: resources,
      pluginIdentifier: "k8s-array",
    }),
    ...(phase === TaskPhase.QUEUED ? { inputUri: row.input_uri } : {}),
    ...extra,
  });
  return { phase, version, resources };
}

/** Flyte's cap on an event's error message; the summary ends with "... and many more." past it. */
const MAX_SUMMARY_CHARS = 100 * 1024;

/** Index ranges as Flyte writes them: `[0-2][5]`. */
function indexRanges(indexes: readonly number[]): string {
  const sorted = [...indexes].sort((x, y) => x - y);
  let out = "";
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && (sorted[j + 1] ?? 0) <= (sorted[j] ?? 0) + 1) j++;
    out += sorted[i] === sorted[j] ? `[${sorted[i]}]` : `[${sorted[i]}-${sorted[j]}]`;
    i = j + 1;
  }
  return out;
}

/** The failed elements' errors, one line per distinct message (sorted) with the indexes that had it. */
export function failureSummary(failures: readonly { index: number; message: string }[]): string {
  const byMessage = new Map<string, number[]>();
  for (const f of failures) byMessage.set(f.message, [...(byMessage.get(f.message) ?? []), f.index]);
  const more = "... and many more.";
  let out = "";
  for (const message of [...byMessage.keys()].sort()) {
    out += `${indexRanges(byMessage.get(message) ?? [])}: ${message}\n`;
    if (out.length >= MAX_SUMMARY_CHARS - more.length) return out + more;
  }
  return out;
}
