// Array nodes (map tasks, task-contract.md §5): the sub-node runs once per element of the non-bound collection
// inputs, as children `<node>-<i>` of the array node, at most `parallelism` at a time. The node fails as soon as too
// few elements can still succeed (min_successes / min_success_ratio; running elements are aborted) and succeeds once
// no element runs, with outputs gathered in index order (none for elements that did not succeed).
import type { Knex } from "knex";
import type { CompiledWorkflowClosure } from "../../gen/flyteidl/core/compiler_pb.js";
import {
  type ExecutionError,
  NodeExecution_Phase as NodePhase,
  TaskExecution_Phase as TaskPhase,
} from "../../gen/flyteidl/core/execution_pb.js";
import type { LiteralMap } from "../../gen/flyteidl/core/literals_pb.js";
import type { TaskTemplate } from "../../gen/flyteidl/core/tasks_pb.js";
import { type ArrayNode, ArrayNode_DataMode, type Node } from "../../gen/flyteidl/core/workflow_pb.js";
import { idKey } from "../compiler/interfaces.js";
import type { ExecutionRow } from "../repositories/execution-repo.js";
import type { NodeExecutionRow } from "../repositories/node-execution-repo.js";
import { attemptOutputsUri } from "../storage/layout.js";
import { executionKey } from "../transformers/execution.js";
import {
  arrayNodeOf,
  arraySize,
  elementDone,
  elementInputs,
  elementTemplate,
  gatherOutputs,
  requiredSuccesses,
  tallyElements,
  userError,
} from "./array-elements.js";
import { type ArrayReport, failureSummary, lastReport, reportArray, type SubTask } from "./array-events.js";
import type { EngineContext, Placement } from "./engine-context.js";
import { abortNode } from "./node-actions.js";
import { OffloadedLiteralError, resolveOffloaded } from "./offloaded.js";
import type { NodeState } from "./plan.js";
import { type DynamicLookup, findSpec, type ParentLookup } from "./specs.js";

export type StartElement = (node: Node, inputs: LiteralMap, placement: Placement) => Promise<boolean>;

export interface ArrayStep {
  readonly states: (rows: readonly NodeExecutionRow[]) => Promise<Map<string, NodeState>>;
  readonly start: StartElement;
  /** Task nodes the execution may still start under max_parallelism (array elements count, as in Flyte). */
  readonly budget: number;
  /** The task the elements run (its declared outputs become collections, empty without elements). */
  readonly subTask: SubTask | undefined;
}

/** The array node being stepped, with what every part of a step needs. */
interface Stepping {
  readonly ctx: EngineContext;
  readonly trx: Knex;
  readonly exec: ExecutionRow;
  readonly row: NodeExecutionRow;
  readonly a: ArrayNode;
  readonly n: number;
  readonly children: readonly NodeExecutionRow[];
  readonly step: ArrayStep;
  readonly last: ArrayReport | undefined;
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
  const a = arrayNodeOf(spec);
  const sub = a?.node;
  if (a === undefined || sub === undefined) return false;
  const read = await arrayInputs(ctx, trx, row, a);
  if ("error" in read) {
    await ctx.nodeEvent(trx, exec, row.node_id, NodePhase.FAILED, { error: read.error });
    return true;
  }
  const task = step.subTask;
  let last = task === undefined ? undefined : await lastReport(ctx, trx, row, task);
  if (task !== undefined && last === undefined)
    last = await reportArray(ctx, trx, exec, { row, task, n: read.n }, last, TaskPhase.QUEUED);
  const s: Stepping = { ctx, trx, exec, row, a, n: read.n, children, step, last };
  const tally = tallyElements(row.node_id, children, read.n);
  const need = requiredSuccesses(a, read.n);
  const doomed = read.n - tally.failed < need;
  if (doomed && !a.runAllSubNodes) return failArray(s, tally, need);
  const started = await startElements(s, sub, read.inputs);
  if (tally.running === 0) return tally.succeeded >= need ? succeedArray(s) : failArray(s, tally, need);
  // Elements just started are reported by the next step, which follows at once (or by the evaluation queued when
  // this one's time is spent): one report per evaluation, built after every start.
  if (task !== undefined && !started)
    await reportArray(ctx, trx, exec, { row, task, n: read.n }, last, TaskPhase.RUNNING);
  return started;
}

/** The array's inputs (offloaded ones read) and size, or why the node fails. */
async function arrayInputs(
  ctx: EngineContext,
  trx: Knex,
  row: NodeExecutionRow,
  a: ArrayNode,
): Promise<{ readonly inputs: LiteralMap; readonly n: number } | { readonly error: ExecutionError }> {
  let inputs: LiteralMap;
  try {
    inputs = await resolveOffloaded(ctx.data.blobs, await ctx.readLiteralMap(trx, row.input_uri));
  } catch (err) {
    if (!(err instanceof OffloadedLiteralError)) throw err;
    return { error: userError("OffloadedLiteralUnreadable", err.message) };
  }
  const size = arraySize(inputs, a.boundInputs);
  return "error" in size ? size : { inputs, n: size.n };
}

/** Starts the next elements that fit under the parallelism and the budget; true when any started. */
async function startElements(s: Stepping, sub: Node, inputs: LiteralMap): Promise<boolean> {
  const { a, n, row, children, step } = s;
  const byId = new Set(children.map((c) => c.node_id));
  const running = children.filter((c) => !elementDone(c.phase)).length;
  const parallelism = a.parallelismOption.case === "parallelism" ? a.parallelismOption.value : 0;
  const limit = parallelism > 0 ? parallelism : n;
  let slots = Math.min(limit - running, step.budget);
  let started = false;
  for (let i = 0; i < n && slots > 0; i++) {
    const id = `${row.node_id}-${i}`;
    if (byId.has(id)) continue;
    const placement = { parentNodeId: row.node_id, specNodeId: sub.id };
    const finished = await step.start({ ...sub, id }, elementInputs(inputs, a.boundInputs, i), placement);
    if (!finished) slots--; // elements a synchronous plugin finished at once (echo) hold no slot
    started = true;
  }
  return started;
}

/** Too few elements can still succeed (or all ran and too few did): running ones are aborted, the node fails. */
async function failArray(
  s: Stepping,
  tally: ReturnType<typeof tallyElements>,
  need: number,
): Promise<boolean> {
  const { ctx, trx, exec, row, n, children, step } = s;
  for (const c of children) if (!elementDone(c.phase)) await abortNode(ctx, trx, exec, c.node_id);
  const failed = children.filter((c) => c.phase === "FAILED" || c.phase === "TIMED_OUT");
  const states = await step.states(failed);
  const indexed = failed.map((c) => ({
    index: Number(c.node_id.slice(row.node_id.length + 1)),
    message: states.get(c.node_id)?.error?.message ?? c.error_code,
  }));
  const error = userError(
    "ArrayNodeFailed",
    `${tally.succeeded} of ${n} elements succeeded and ${tally.failed} failed; at least ${need} were required\n` +
      failureSummary(indexed),
  );
  if (step.subTask !== undefined)
    await reportArray(ctx, trx, exec, { row, task: step.subTask, n }, s.last, TaskPhase.FAILED, { error });
  await ctx.nodeEvent(trx, exec, row.node_id, NodePhase.FAILED, { error });
  return true;
}

/** Enough elements succeeded and none runs: outputs gathered in index order (none for the others). */
async function succeedArray(s: Stepping): Promise<boolean> {
  const { ctx, trx, exec, row, n, children, step } = s;
  const done = await step.states(children);
  const ordered = Array.from({ length: n }, (_, i) => done.get(`${row.node_id}-${i}`));
  const outputNames = new Set([
    ...Object.keys(step.subTask?.template.interface?.outputs?.variables ?? {}),
    ...ordered.flatMap((st) => Object.keys(st?.outputs?.literals ?? {})),
  ]);
  // The node's own outputs.pb (attempt 0), which the array's task execution reports too.
  await ctx.nodeEvent(trx, exec, row.node_id, NodePhase.SUCCEEDED, {
    outputs: gatherOutputs(outputNames, ordered),
  });
  if (step.subTask !== undefined) {
    const outputUri = attemptOutputsUri(ctx.data.root, executionKey(exec), row.node_id, 0);
    await reportArray(ctx, trx, exec, { row, task: step.subTask, n }, s.last, TaskPhase.SUCCEEDED, {
      outputUri,
    });
  }
  return true;
}

/** The task an array node's sub-node runs. */
export function arraySubTask(spec: Node, tasks: ReadonlyMap<string, TaskTemplate>): SubTask | undefined {
  const sub = arrayNodeOf(spec)?.node;
  const ref = sub?.target.case === "taskNode" ? sub.target.value.reference : undefined;
  if (ref?.case !== "referenceId") return undefined;
  const template = tasks.get(idKey(ref.value));
  return template === undefined ? undefined : { id: ref.value, template };
}

/** What a task runner needs to run an array element's task process (see arrayElementOf). */
export interface ArrayElement {
  /** The element's index (`FLYTE_K8S_ARRAY_INDEX`). */
  readonly index: number;
  /**
   * The file the element's process reads as `{{.input}}`: the array node's inputs.pb (lists; a flytekit map task
   * picks its item by index), or the element's own (INDIVIDUAL_INPUT_FILES, or a sub-node keeping its original
   * scalar interface, which could not read lists).
   */
  readonly inputUri: string;
  /** The template the element runs: a map task's list outputs narrowed to the element's (scalar) types. */
  readonly template: TaskTemplate;
}

/**
 * When `row` is an element of an array node (node id `<array node id>-<i>`, parent the array node's row): its index,
 * input file and template. `parentOf` finds rows by id (the row's ancestors), `template` is the sub-node's task.
 */
export function arrayElementOf(
  closure: CompiledWorkflowClosure,
  parentOf: ParentLookup,
  row: NodeExecutionRow,
  template: TaskTemplate,
  dynamicOf?: DynamicLookup,
): ArrayElement | undefined {
  const parent = row.parent_id === null ? undefined : parentOf(row.parent_id);
  const a = parent === undefined ? undefined : arrayNodeOf(findSpec(closure, parentOf, parent, dynamicOf));
  const index = parent === undefined ? "" : row.node_id.slice(parent.node_id.length + 1);
  if (parent === undefined || a === undefined || row.node_id !== `${parent.node_id}-${index}`)
    return undefined;
  if (!/^(0|[1-9][0-9]*)$/.test(index)) return undefined;
  const original = a.isOriginalSubNodeInterface === true;
  const own = original || a.dataMode === ArrayNode_DataMode.INDIVIDUAL_INPUT_FILES;
  return {
    index: Number(index),
    inputUri: own ? row.input_uri : parent.input_uri,
    template: original ? template : elementTemplate(template),
  };
}
