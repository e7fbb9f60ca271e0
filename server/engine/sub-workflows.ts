// Nodes that run a workflow under themselves: inline sub-workflow nodes and dynamic nodes (the workflow their task
// produced). The nested workflow is planned like the primary one, with its nodes placed under the node's row, named
// as propeller names them: `<parent>-<attempt>-<node>` (attempt 0 for sub-workflows; for a dynamic node the attempt
// that produced the workflow).
import type { Knex } from "knex";
import type { CompiledWorkflow } from "../../gen/flyteidl/core/compiler_pb.js";
import type { ExecutionError } from "../../gen/flyteidl/core/execution_pb.js";
import { NodeExecution_Phase as NodePhase } from "../../gen/flyteidl/core/execution_pb.js";
import type { LiteralMap } from "../../gen/flyteidl/core/literals_pb.js";
import type { TaskTemplate } from "../../gen/flyteidl/core/tasks_pb.js";
import type { Node } from "../../gen/flyteidl/core/workflow_pb.js";
import type { ExecutionRow } from "../repositories/execution-repo.js";
import type { NodeExecutionRow } from "../repositories/node-execution-repo.js";
import { decodeLiteralMap } from "../transformers/literals.js";
import type { EngineContext, Placement } from "./engine-context.js";
import type { ExecutionView } from "./execution-view.js";
import { abortNode, type RunState, startNode } from "./node-actions.js";
import { childNodeId } from "./specs.js";
import { nestingError } from "./sub-workflow-depth.js";
import { PLAN_CHUNK } from "./workflow-plan.js";

/** A workflow running under a node's row, and what happens when it ends. */
export interface NestedWorkflow {
  readonly workflow: CompiledWorkflow;
  readonly inputs: LiteralMap;
  readonly tasks: Map<string, TaskTemplate>;
  /** The attempt in the children's ids. */
  readonly attempt: number;
  /** Added to every child's placement (a dynamic node's children name its attempt). */
  readonly placement: Placement;
  readonly succeed: (outputs: LiteralMap) => Promise<void>;
  readonly fail: (error: ExecutionError) => Promise<void>;
}

/** Runs one planning step of a nested workflow under its node; true when anything changed. */
export async function stepNested(
  ctx: EngineContext,
  trx: Knex,
  exec: ExecutionRow,
  row: NodeExecutionRow,
  view: ExecutionView,
  nested: NestedWorkflow,
): Promise<boolean> {
  const idOf = (specId: string) => childNodeId(row.node_id, specId, nested.attempt);
  const plan = await view.subPlan(row, nested.workflow, nested.inputs);
  await view.loadWanted(plan, false, PLAN_CHUNK, (specId) => view.row(idOf(specId)));
  const run: RunState = { tasks: nested.tasks, states: plan.nodeStates, inputs: nested.inputs };
  let changed = false;
  for (const a of plan.next(false, PLAN_CHUNK)) {
    switch (a.kind) {
      case "start-node": {
        const placed = { ...a.node, id: idOf(a.node.id) };
        await startNode(ctx, trx, exec, placed, a.inputs, run, {
          ...nested.placement,
          parentNodeId: row.node_id,
          specNodeId: a.node.id,
        });
        changed = true;
        break;
      }
      case "abort-node":
        await abortNode(ctx, trx, exec, idOf(a.nodeId));
        changed = true;
        break;
      case "skip-node":
      case "failing":
        break;
      case "succeed":
        await nested.succeed(a.outputs);
        return true;
      case "fail":
        await nested.fail(a.error);
        return true;
      case "aborted":
        await ctx.nodeEvent(trx, exec, row.node_id, NodePhase.ABORTED);
        return true;
    }
  }
  return changed;
}

/** Runs one planning step of an inline sub-workflow under its (RUNNING) node; true when anything changed. */
export async function stepSubWorkflow(
  ctx: EngineContext,
  trx: Knex,
  exec: ExecutionRow,
  row: NodeExecutionRow,
  spec: Node,
  view: ExecutionView,
): Promise<boolean> {
  const sub = view.subWorkflow(spec, row);
  if (sub === undefined) return false;
  if (view.children(row).length === 0) {
    // Checked before its first child starts: a stored closure may predate the compiler's cycle check.
    const error = nestingError(row.node_id, sub, (n) => view.subWorkflow(n, row));
    if (error !== undefined) {
      await ctx.nodeEvent(trx, exec, row.node_id, NodePhase.FAILED, { error });
      return true;
    }
  }
  const inputs = decodeLiteralMap(row.input_uri === "" ? undefined : await ctx.readData(trx, row.input_uri));
  const chain = view.inDynamicChain(row);
  return stepNested(ctx, trx, exec, row, view, {
    workflow: sub,
    inputs,
    tasks: view.tasksOf(row),
    attempt: 0,
    placement: chain ? { inDynamicChain: true } : {},
    succeed: (outputs) => ctx.nodeEvent(trx, exec, row.node_id, NodePhase.SUCCEEDED, { outputs }),
    fail: (error) => ctx.nodeEvent(trx, exec, row.node_id, NodePhase.FAILED, { error }),
  });
}
