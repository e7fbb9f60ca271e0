// The pure part of array nodes (task-contract.md §5.3): how many elements, each element's inputs, the successes
// needed, elements by outcome, gathered outputs, and the template an element of a flytekit map task runs.
import { clone, create } from "@bufbuild/protobuf";
import {
  type ExecutionError,
  ExecutionError_ErrorKind,
  ExecutionErrorSchema,
} from "../../gen/flyteidl/core/execution_pb.js";
import {
  type Literal,
  type LiteralMap,
  LiteralMapSchema,
  LiteralSchema,
} from "../../gen/flyteidl/core/literals_pb.js";
import { type TaskTemplate, TaskTemplateSchema } from "../../gen/flyteidl/core/tasks_pb.js";
import type { ArrayNode, Node } from "../../gen/flyteidl/core/workflow_pb.js";
import type { NodeExecutionRow } from "../repositories/node-execution-repo.js";
import type { NodeState } from "./plan.js";

const NONE = create(LiteralSchema, {
  value: { case: "scalar", value: { value: { case: "noneType", value: {} } } },
});

export const arrayNodeOf = (node: Node | undefined): ArrayNode | undefined =>
  node?.target.case === "arrayNode" ? node.target.value : undefined;

export const userError = (code: string, message: string) =>
  create(ExecutionErrorSchema, { code, message, kind: ExecutionError_ErrorKind.USER });

/**
 * How many elements: the common length of the collection inputs not in `bound` (1 when every input is bound), or
 * why there is no such length.
 */
export function arraySize(
  inputs: LiteralMap,
  bound: readonly string[],
): { readonly n: number } | { readonly error: ExecutionError } {
  const whole = new Set(bound);
  const mapped = Object.entries(inputs.literals).filter(([k]) => !whole.has(k));
  if (mapped.length === 0 && Object.keys(inputs.literals).length > 0) return { n: 1 };
  let n: number | undefined;
  for (const [, v] of mapped) {
    if (v.value.case !== "collection") continue;
    const length = v.value.value.literals.length;
    if (n === undefined) n = length;
    else if (length !== n) {
      const message = `input arrays have different lengths: expecting '${n}' found '${length}'`;
      return { error: userError("InvalidArrayLength", message) };
    }
  }
  return n === undefined ? { error: userError("InvalidArrayLength", "no input array provided") } : { n };
}

/** Element i's inputs: the i-th item of each collection input not in `bound`; other inputs as they are. */
export function elementInputs(inputs: LiteralMap, bound: readonly string[], i: number): LiteralMap {
  const whole = new Set(bound);
  const literals: Record<string, Literal> = {};
  for (const [k, v] of Object.entries(inputs.literals)) {
    literals[k] = v.value.case === "collection" && !whole.has(k) ? (v.value.value.literals[i] ?? NONE) : v;
  }
  return create(LiteralMapSchema, { literals });
}

/** Successes the array needs: all n, min_successes (at most n) or ceil(min_success_ratio × n). */
export function requiredSuccesses(a: ArrayNode, n: number): number {
  if (a.successCriteria.case === "minSuccesses") return Math.min(n, a.successCriteria.value);
  const ratio = a.successCriteria.case === "minSuccessRatio" ? a.successCriteria.value : 1;
  return Math.ceil(ratio * n - 1e-9);
}

const SUCCEEDED = new Set(["SUCCEEDED", "RECOVERED", "SKIPPED"]);
const FAILED = new Set(["FAILED", "TIMED_OUT", "ABORTED"]);

/** An element in a terminal phase (it holds no parallelism slot and has nothing left to abort). */
export const elementDone = (phase: string): boolean => SUCCEEDED.has(phase) || FAILED.has(phase);

/** Elements by outcome; `running` counts those not started yet. */
export function tallyElements(arrayNodeId: string, children: readonly NodeExecutionRow[], n: number) {
  const phases = new Map(children.map((c) => [c.node_id, c.phase]));
  let succeeded = 0;
  let failed = 0;
  for (let i = 0; i < n; i++) {
    const phase = phases.get(`${arrayNodeId}-${i}`) ?? "";
    if (SUCCEEDED.has(phase)) succeeded++;
    else if (FAILED.has(phase)) failed++;
  }
  return { succeeded, failed, running: n - succeeded - failed };
}

/** The gathered outputs: per output, a collection in index order with none for elements that did not succeed. */
export function gatherOutputs(outputNames: Iterable<string>, ordered: readonly (NodeState | undefined)[]) {
  const literals: Record<string, Literal> = {};
  for (const name of outputNames) {
    const items = ordered.map((st) => (st?.status === "succeeded" ? st.outputs?.literals[name] : undefined));
    literals[name] = create(LiteralSchema, {
      value: { case: "collection", value: { literals: items.map((l) => l ?? NONE) } },
    });
  }
  return create(LiteralMapSchema, { literals });
}

/** A map task's template as one element runs it: its list outputs narrowed to their element types. */
export function elementTemplate(template: TaskTemplate): TaskTemplate {
  const narrowed = clone(TaskTemplateSchema, template);
  for (const v of Object.values(narrowed.interface?.outputs?.variables ?? {})) {
    if (v.type?.type.case === "collectionType") v.type = v.type.type.value;
  }
  return narrowed;
}
