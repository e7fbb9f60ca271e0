// Launch-plan nodes: each runs a child execution (mode CHILD_WORKFLOW, a deterministic name, linked to the node);
// the node finishes with the child, and aborting the node terminates the child.
import { create, fromBinary } from "@bufbuild/protobuf";
import type { Knex } from "knex";
import {
  type ExecutionCreateRequest,
  ExecutionCreateRequestSchema,
  ExecutionMetadata_ExecutionMode,
} from "../../gen/flyteidl/admin/execution_pb.js";
import { NodeExecutionClosureSchema } from "../../gen/flyteidl/admin/node_execution_pb.js";
import {
  ExecutionError_ErrorKind,
  ExecutionErrorSchema,
  NodeExecution_Phase as NodePhase,
} from "../../gen/flyteidl/core/execution_pb.js";
import type { WorkflowExecutionIdentifier } from "../../gen/flyteidl/core/identifier_pb.js";
import type { LiteralMap } from "../../gen/flyteidl/core/literals_pb.js";
import type { Node } from "../../gen/flyteidl/core/workflow_pb.js";
import { AppError, Code } from "../errors.js";
import { type ExecutionRow, getExecution, updateExecution } from "../repositories/execution-repo.js";
import type { NodeExecutionRow } from "../repositories/node-execution-repo.js";
import { enqueueEvaluation } from "../repositories/work-repo.js";
import {
  decodeExecClosure,
  decodeExecSpec,
  executionId,
  TERMINAL_WORKFLOW_PHASES,
  workflowPhase,
} from "../transformers/execution.js";
import { decodeLiteralMap } from "../transformers/literals.js";
import type { EngineContext, Placement } from "./engine-context.js";

export type LaunchChild = (
  req: ExecutionCreateRequest,
  opts: { parentNodeExecutionId: string; deferStart?: (start: () => void) => void },
) => Promise<WorkflowExecutionIdentifier>;

const BASE32 = "abcdefghijklmnopqrstuvwxyz123456";

/**
 * How deep launch-plan nodes may nest child executions (ExecutionMetadata.nesting: 1 for a child of a top-level
 * execution). Flyte sets no limit, so a launch plan that launches itself runs forever; 20 levels is far beyond
 * any real hierarchy and stops such a loop after 20 child executions.
 */
export const MAX_CHILD_NESTING = 20;

function fnv1a64(text: string): bigint {
  let h = 0xcbf29ce484222325n;
  for (const b of Buffer.from(text, "utf8")) {
    h ^= BigInt(b);
    h = (h * 0x100000001b3n) & 0xffffffffffffffffn;
  }
  return h;
}

/** `<parent>-<node>-<attempt>`, or `f` + base32 of its FNV-1a hash when longer than 20 characters (as propeller does). */
export function childExecutionName(parent: string, nodeId: string, attempt: number): string {
  const joined = [parent, nodeId, String(attempt)].join("-");
  if (joined.length <= 20) return joined;
  const bytes = Buffer.alloc(8);
  bytes.writeBigUInt64BE(fnv1a64(joined));
  let bits = 0;
  let value = 0;
  let out = "";
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += BASE32[(value << (5 - bits)) & 31];
  return `f${out}`;
}

export async function startLaunchPlanNode(
  ctx: EngineContext,
  trx: Knex,
  exec: ExecutionRow,
  node: Node,
  inputs: LiteralMap,
  placement: Placement,
): Promise<boolean> {
  const ref =
    node.target.case === "workflowNode" && node.target.value.reference.case === "launchplanRef"
      ? node.target.value.reference.value
      : undefined;
  await ctx.nodeEvent(trx, exec, node.id, NodePhase.QUEUED, {
    inputs,
    ...placement,
  });
  const row = await ctx.batch(trx).storedNode(exec.id, node.id);
  if (ref === undefined || row === undefined || ctx.launchChild === undefined) return false;
  const name = childExecutionName(exec.execution_name, node.id, 0);
  const spec = decodeExecSpec(exec);
  const nesting = (spec.metadata?.nesting ?? 0) + 1;
  if (nesting > MAX_CHILD_NESTING) {
    const error = create(ExecutionErrorSchema, {
      code: "MaxNestingDepthExceeded",
      message: `child executions may nest at most ${MAX_CHILD_NESTING} levels deep: launch plan node [${node.id}] would start level ${nesting} (does launch plan [${ref.name}] launch itself, directly or through its children?)`,
      kind: ExecutionError_ErrorKind.USER,
    });
    await ctx.nodeEvent(trx, exec, node.id, NodePhase.FAILED, { error });
    return true;
  }
  const req = create(ExecutionCreateRequestSchema, {
    project: exec.execution_project,
    domain: exec.execution_domain,
    name,
    inputs,
    spec: {
      launchPlan: ref,
      metadata: {
        mode: ExecutionMetadata_ExecutionMode.CHILD_WORKFLOW,
        nesting,
        parentNodeExecution: { nodeId: node.id, executionId: executionId(exec) },
      },
    },
  });
  try {
    // The child starts once this transaction ends: its parent may be uncommitted yet (created by this transaction),
    // and a child that finished before the parent's commit could not find it to wake it (wakeParent).
    const handed = ctx.handed.get(trx);
    await ctx.launchChild(req, {
      parentNodeExecutionId: row.id,
      ...(handed === undefined ? {} : { deferStart: (start: () => void) => handed.afterEnd(start) }),
    });
  } catch (err) {
    if (!(err instanceof AppError)) throw err;
    if (err.code !== Code.AlreadyExists) {
      const error = create(ExecutionErrorSchema, {
        code: "ChildLaunchFailed",
        message: err.message,
        kind: ExecutionError_ErrorKind.USER,
      });
      await ctx.nodeEvent(trx, exec, node.id, NodePhase.FAILED, { error });
      return true;
    }
  }
  const child = { project: exec.execution_project, domain: exec.execution_domain, name };
  await ctx.nodeEvent(trx, exec, node.id, NodePhase.RUNNING, { childExecution: child });
  return false;
}

function childOf(row: NodeExecutionRow) {
  const closure = fromBinary(NodeExecutionClosureSchema, row.closure);
  return closure.targetMetadata.case === "workflowNodeMetadata"
    ? closure.targetMetadata.value.executionId
    : undefined;
}

/** Finishes a running launch-plan node whose child execution has finished. */
export async function checkLaunchPlanNode(
  ctx: EngineContext,
  trx: Knex,
  exec: ExecutionRow,
  row: NodeExecutionRow,
): Promise<boolean> {
  const id = childOf(row);
  const child = id === undefined ? undefined : await getExecution(trx, id);
  if (child === undefined || !TERMINAL_WORKFLOW_PHASES.has(workflowPhase(child.phase))) return false;
  const closure = decodeExecClosure(child);
  if (child.phase === "SUCCEEDED") {
    const out = closure.outputResult;
    const uri = out.case === "outputs" && out.value.data.case === "uri" ? out.value.data.value : "";
    const outputs = decodeLiteralMap(uri === "" ? undefined : await ctx.readData(trx, uri));
    await ctx.nodeEvent(trx, exec, row.node_id, NodePhase.SUCCEEDED, { outputs });
    return true;
  }
  const error =
    closure.outputResult.case === "error"
      ? closure.outputResult.value
      : create(ExecutionErrorSchema, {
          code: "ChildExecution",
          message: `child execution ${child.execution_name} ${child.phase.toLowerCase()}`,
          kind: ExecutionError_ErrorKind.USER,
        });
  await ctx.nodeEvent(
    trx,
    exec,
    row.node_id,
    child.phase === "ABORTED" ? NodePhase.ABORTED : NodePhase.FAILED,
    { error },
  );
  return true;
}

/** Terminating a parent terminates its running child execution. */
export async function abortChild(trx: Knex, row: NodeExecutionRow, cause: string): Promise<void> {
  const id = childOf(row);
  const child = id === undefined ? undefined : await getExecution(trx, id);
  if (
    child === undefined ||
    TERMINAL_WORKFLOW_PHASES.has(workflowPhase(child.phase)) ||
    child.phase === "ABORTING"
  )
    return;
  await updateExecution(trx, child.id, {
    phase: "ABORTING",
    abort_cause: cause,
    execution_updated_at: new Date(),
  });
  await enqueueEvaluation(trx, child.id);
}

/**
 * A finished child wakes its parent execution, found by the key its spec names: the parent's node row may not be
 * visible yet (the parent's transaction that started the child commits after it), but the parent execution is, and
 * an evaluation queued for it waits for that transaction's lock and then sees the node.
 */
export async function wakeParent(trx: Knex, exec: ExecutionRow): Promise<void> {
  if (exec.parent_node_execution_id === null) return;
  const key = decodeExecSpec(exec).metadata?.parentNodeExecution?.executionId;
  const parent = key === undefined ? undefined : await getExecution(trx, key);
  if (parent !== undefined) {
    await enqueueEvaluation(trx, parent.id);
    return;
  }
  const node = (await trx("node_executions")
    .select("execution_id")
    .where({ id: exec.parent_node_execution_id })
    .first()) as { execution_id: string } | undefined;
  if (node !== undefined) await enqueueEvaluation(trx, node.execution_id);
}
