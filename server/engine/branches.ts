// Branch nodes: the first case whose condition holds runs as a child of the branch (the others leave no trace);
// no match runs the else node or fails with the else-error. The branch finishes with its child.
import { create, fromBinary } from "@bufbuild/protobuf";
import type { Knex } from "knex";
import { NodeExecutionClosureSchema } from "../../gen/flyteidl/admin/node_execution_pb.js";
import {
  type ExecutionError,
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
import { childNodeId } from "./specs.js";

type StartChild = (child: Node, inputs: LiteralMap, placement: Placement) => Promise<boolean>;
type Resolve = (bindings: readonly Binding[]) => LiteralMap;

const MALFORMED = "MalformedBranchUserError";

/** A USER failure of a branch, in Flyte's words (`[<code>] <message>`, flytestdlib's error text). */
const branchError = (code: string, message: string) => ({
  error: create(ExecutionErrorSchema, {
    code,
    message: `[${code}] ${message}`,
    kind: ExecutionError_ErrorKind.USER,
  }),
});

/** The case node a branch takes (the first whose condition holds, else the else node), or why it takes none. */
function chooseCase(node: Node, inputs: LiteralMap): { node: Node } | { error: ExecutionError } {
  const ie = node.target.case === "branchNode" ? node.target.value.ifElse : undefined;
  const cases = ie === undefined ? [] : [ie.case, ...ie.other].filter((c) => c !== undefined);
  for (const c of cases) {
    if (evaluateCondition(c.condition, inputs))
      return c.thenNode === undefined
        ? branchError(MALFORMED, "the case taken has no node")
        : { node: c.thenNode };
  }
  if (ie?.default.case === "elseNode") return { node: ie.default.value };
  if (ie?.default.case === "error") return branchError("UserProvidedError", ie.default.value.message);
  return branchError(MALFORMED, "No branch satisfied");
}

/** Why a branch's case cannot be chosen or given its inputs; other errors are not the branch's. */
function evaluationError(err: unknown): { error: ExecutionError } | undefined {
  if (err instanceof ConditionError) return branchError(MALFORMED, err.message);
  if (!(err instanceof BindingError) && !(err instanceof OffloadedLiteralError)) return undefined;
  const kind = ExecutionError_ErrorKind.USER;
  return {
    error: create(ExecutionErrorSchema, { code: "BranchEvaluationFailed", message: err.message, kind }),
  };
}

/**
 * Starts a branch: it runs the case it takes as its child, named as propeller names it
 * (`<branch id>-<attempt>-<case id>`, the case id as its spec node id). Cases not taken leave no node execution.
 */
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
  let taken: { node: Node; inputs: LiteralMap } | { error: ExecutionError };
  try {
    const choice = chooseCase(node, await resolveOffloaded(ctx.data.blobs, inputs));
    taken = "node" in choice ? { node: choice.node, inputs: resolve(choice.node.inputs) } : choice;
  } catch (err) {
    const failure = evaluationError(err);
    if (failure === undefined) throw err;
    taken = failure;
  }
  if ("error" in taken) {
    await ctx.nodeEvent(trx, exec, node.id, NodePhase.FAILED, { error: taken.error });
    return true;
  }
  const child = { ...taken.node, id: childNodeId(node.id, taken.node.id) };
  await startChild(child, taken.inputs, { parentNodeId: node.id, specNodeId: taken.node.id });
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
