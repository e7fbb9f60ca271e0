// Branch nodes: the first case whose condition holds runs as a child of the branch (the others are SKIPPED);
// no match runs the else node or fails with the else-error. The branch finishes with its child.
import { create, fromBinary } from "@bufbuild/protobuf";
import type { Knex } from "knex";
import { NodeExecutionClosureSchema } from "../../gen/flyteidl/admin/node_execution_pb.js";
import {
  ExecutionError_ErrorKind,
  ExecutionErrorSchema,
  NodeExecution_Phase as NodePhase,
} from "../../gen/flyteidl/core/execution_pb.js";
import type { Binding, LiteralMap } from "../../gen/flyteidl/core/literals_pb.js";
import type { Node } from "../../gen/flyteidl/core/workflow_pb.js";
import type { ExecutionRow } from "../repositories/execution-repo.js";
import type { NodeExecutionRow } from "../repositories/node-execution-repo.js";
import { decodeLiteralMap } from "../transformers/literals.js";
import { ConditionError, evaluateCondition } from "./conditions.js";
import type { EngineContext, Placement } from "./engine-context.js";
import { OffloadedLiteralError, resolveOffloaded } from "./offloaded.js";
import { BindingError } from "./plan.js";

type StartChild = (child: Node, inputs: LiteralMap) => Promise<boolean>;
type Resolve = (bindings: readonly Binding[]) => LiteralMap;

function chooseCase(node: Node, inputs: LiteralMap): { chosen?: Node; failure?: string; all: Node[] } {
  const ie = node.target.case === "branchNode" ? node.target.value.ifElse : undefined;
  const cases = ie === undefined ? [] : [ie.case, ...ie.other].filter((c) => c !== undefined);
  const all = cases.flatMap((c) => (c.thenNode === undefined ? [] : [c.thenNode]));
  if (ie?.default.case === "elseNode") all.push(ie.default.value);
  for (const c of cases)
    if (evaluateCondition(c.condition, inputs))
      return c.thenNode === undefined ? { all } : { chosen: c.thenNode, all };
  if (ie?.default.case === "elseNode") return { chosen: ie.default.value, all };
  return {
    failure: ie?.default.case === "error" ? ie.default.value.message : "no branch condition matched",
    all,
  };
}

export async function startBranch(
  ctx: EngineContext,
  trx: Knex,
  exec: ExecutionRow,
  node: Node,
  inputs: LiteralMap,
  placement: Placement,
  startChild: StartChild,
  resolve: Resolve,
): Promise<boolean> {
  await ctx.nodeEvent(trx, exec, node.id, NodePhase.QUEUED, {
    inputs,
    isParent: true,
    ...placement,
  });
  await ctx.nodeEvent(trx, exec, node.id, NodePhase.RUNNING);
  let choice: ReturnType<typeof chooseCase>;
  let childInputs: LiteralMap | undefined;
  try {
    choice = chooseCase(node, await resolveOffloaded(ctx.data.blobs, inputs));
    if (choice.chosen !== undefined) childInputs = resolve(choice.chosen.inputs);
  } catch (err) {
    if (
      !(err instanceof ConditionError) &&
      !(err instanceof BindingError) &&
      !(err instanceof OffloadedLiteralError)
    )
      throw err;
    const error = create(ExecutionErrorSchema, {
      code: "BranchEvaluationFailed",
      message: err.message,
      kind: ExecutionError_ErrorKind.USER,
    });
    await ctx.nodeEvent(trx, exec, node.id, NodePhase.FAILED, { error });
    return true;
  }
  for (const other of choice.all) {
    if (other !== choice.chosen)
      await ctx.nodeEvent(trx, exec, other.id, NodePhase.SKIPPED, { parentNodeId: node.id });
  }
  if (choice.chosen === undefined || childInputs === undefined) {
    const error = create(ExecutionErrorSchema, {
      code: "UserDefinedError",
      message: choice.failure ?? "",
      kind: ExecutionError_ErrorKind.USER,
    });
    await ctx.nodeEvent(trx, exec, node.id, NodePhase.FAILED, { error });
    return true;
  }
  await startChild(choice.chosen, childInputs);
  return true;
}

/** Finishes a running branch whose taken child has finished; true when it did. */
export async function checkBranch(
  ctx: EngineContext,
  trx: Knex,
  exec: ExecutionRow,
  row: NodeExecutionRow,
  children: readonly NodeExecutionRow[],
): Promise<boolean> {
  const child = children.find((r) => r.phase !== "SKIPPED");
  if (child === undefined) return false;
  const closure = fromBinary(NodeExecutionClosureSchema, child.closure);
  if (child.phase === "SUCCEEDED" || child.phase === "RECOVERED") {
    const uri = closure.outputResult.case === "outputUri" ? closure.outputResult.value : "";
    const outputs = decodeLiteralMap(uri === "" ? undefined : await ctx.readData(trx, uri));
    await ctx.nodeEvent(trx, exec, row.node_id, NodePhase.SUCCEEDED, { outputs });
    return true;
  }
  if (child.phase === "FAILED" || child.phase === "TIMED_OUT" || child.phase === "ABORTED") {
    const error =
      closure.outputResult.case === "error"
        ? closure.outputResult.value
        : create(ExecutionErrorSchema, {
            code: "ChildFailed",
            message: `branch child [${child.node_id}] ${child.phase.toLowerCase()}`,
          });
    await ctx.nodeEvent(trx, exec, row.node_id, NodePhase.FAILED, { error });
    return true;
  }
  return false;
}
