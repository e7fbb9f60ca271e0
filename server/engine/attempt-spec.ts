// What a task attempt runs and the world it runs in: the node's template node and task (found through its ancestors,
// inside a dynamic node's workflow when it sits under one), whether it is an array element, and the environment
// Flyte gives a task (task-contract.md §3.3): the execution's and the task's identity, the attempt number, the
// array index, the execution's `envs` and the configured variables — never the server's own environment.
import type { Knex } from "knex";
import type { CompiledWorkflowClosure } from "../../gen/flyteidl/core/compiler_pb.js";
import type { Identifier } from "../../gen/flyteidl/core/identifier_pb.js";
import type { TaskTemplate } from "../../gen/flyteidl/core/tasks_pb.js";
import type { Node } from "../../gen/flyteidl/core/workflow_pb.js";
import { idKey } from "../compiler/interfaces.js";
import type { ExecutionRow } from "../repositories/execution-repo.js";
import {
  getNodeExecution,
  getNodeExecutionById,
  type NodeExecutionRow,
} from "../repositories/node-execution-repo.js";
import { attemptOutputDir, defaultRawPrefix, perRetryUniqueKey, rawSandbox } from "../storage/layout.js";
import { decodeExecSpec, executionKey } from "../transformers/execution.js";
import { type ArrayElement, arrayElementOf } from "./arrays.js";
import type { EngineContext } from "./engine-context.js";
import { locateSpec, tasksOf } from "./specs.js";

export interface AttemptSpec {
  /** The node's template node. */
  readonly node?: Node;
  readonly ref?: Identifier;
  readonly template?: TaskTemplate;
  /** The execution's workflow (FLYTE_INTERNAL_EXECUTION_WORKFLOW). */
  readonly workflowId?: Identifier;
  /** Set when the node is an element of an array node. */
  readonly element?: ArrayElement;
}

/** The row's ancestors by row id, each with the workflow it compiled when it is a dynamic node. */
async function ancestorsOf(ctx: EngineContext, db: Knex, row: NodeExecutionRow) {
  const rows = new Map<string, NodeExecutionRow>();
  const dynamics = new Map<string, CompiledWorkflowClosure>();
  for (let parent = row.parent_id; parent !== null && !rows.has(parent); ) {
    const p = await getNodeExecutionById(db, parent);
    if (p === undefined) break;
    rows.set(parent, p);
    if (p.dynamic_workflow_uri !== "") {
      const dynamic = await ctx.dynamicWorkflow(db, p.dynamic_workflow_uri);
      if (dynamic !== undefined) dynamics.set(p.id, dynamic);
    }
    parent = p.parent_id;
  }
  return { rows, dynamics };
}

/** The task a node's row runs (and where it sits), read from the compiled workflow and the node's ancestors. */
export async function taskOf(
  ctx: EngineContext,
  db: Knex,
  workflowRowId: string,
  executionId: string,
  nodeId: string,
): Promise<AttemptSpec> {
  const closure = await ctx.compiledWorkflow(db, workflowRowId);
  const workflowId = closure.primary?.template?.id;
  const row = await getNodeExecution(db, executionId, nodeId);
  if (row === undefined) return workflowId === undefined ? {} : { workflowId };
  const { rows, dynamics } = await ancestorsOf(ctx, db, row);
  const parentOf = (id: string) => rows.get(id);
  const at = locateSpec(closure, parentOf, row, (r) => dynamics.get(r.id));
  const node = at?.node;
  const ref =
    node?.target.case === "taskNode" && node.target.value.reference.case === "referenceId"
      ? node.target.value.reference.value
      : undefined;
  const template = ref === undefined || at === undefined ? undefined : tasksOf(at.closure).get(idKey(ref));
  const element =
    template === undefined || at === undefined
      ? undefined
      : arrayElementOf(at.closure, parentOf, row, template, (r) => dynamics.get(r.id));
  return {
    ...(node === undefined ? {} : { node }),
    ...(ref === undefined ? {} : { ref }),
    ...(template === undefined ? {} : { template }),
    ...(workflowId === undefined ? {} : { workflowId }),
    ...(element === undefined ? {} : { element }),
  };
}

/** The variables Flyte sets for a task attempt (later entries win over the template's `container.env`). */
export function attemptEnv(
  exec: ExecutionRow,
  spec: AttemptSpec,
  ref: Identifier,
  attempt: number,
  configured: Readonly<Record<string, string>>,
): Record<string, string> {
  const wf = spec.workflowId;
  const env: Record<string, string> = {
    FLYTE_INTERNAL_EXECUTION_WORKFLOW: wf === undefined ? "" : `${wf.project}:${wf.domain}:${wf.name}`,
    FLYTE_INTERNAL_EXECUTION_ID: exec.execution_name,
    FLYTE_INTERNAL_EXECUTION_PROJECT: exec.execution_project,
    FLYTE_INTERNAL_EXECUTION_DOMAIN: exec.execution_domain,
    FLYTE_ATTEMPT_NUMBER: String(attempt),
    FLYTE_INTERNAL_TASK_PROJECT: ref.project,
    FLYTE_INTERNAL_TASK_DOMAIN: ref.domain,
    FLYTE_INTERNAL_TASK_NAME: ref.name,
    FLYTE_INTERNAL_TASK_VERSION: ref.version,
  };
  for (const kv of decodeExecSpec(exec).envs?.values ?? []) env[kv.key] = kv.value;
  if (spec.element !== undefined) {
    env.BATCH_JOB_ARRAY_INDEX_VAR_NAME = "FLYTE_K8S_ARRAY_INDEX";
    env.FLYTE_K8S_ARRAY_INDEX = String(spec.element.index);
  }
  return { ...env, ...configured };
}

/** Where an attempt's data lives: its output directory, raw-output sandbox and checkpoint, and its unique key. */
export function attemptPlaces(ctx: EngineContext, exec: ExecutionRow, nodeId: string, attempt: number) {
  const place = executionKey(exec);
  const root = ctx.data.root;
  const rawPrefix = decodeExecSpec(exec).rawOutputDataConfig?.outputLocationPrefix || defaultRawPrefix(root);
  const raw = rawSandbox(rawPrefix, place, nodeId, attempt);
  return {
    outputPrefix: attemptOutputDir(root, place, nodeId, attempt),
    rawPrefix: raw,
    checkpoint: `${raw}/_flytecheckpoints`,
    uniqueKey: perRetryUniqueKey(place, nodeId, attempt),
  };
}
