// Inline sub-workflow nodes: the sub-workflow is planned like the primary one, with its nodes placed under the
// workflow node's row (ids `<parent>-0-<node>`, as propeller names them).
import type { Knex } from "knex";
import { NodeExecution_Phase as NodePhase } from "../../gen/flyteidl/core/execution_pb.js";
import type { TaskTemplate } from "../../gen/flyteidl/core/tasks_pb.js";
import type { Node } from "../../gen/flyteidl/core/workflow_pb.js";
import type { ExecutionRow } from "../repositories/execution-repo.js";
import type { NodeExecutionRow } from "../repositories/node-execution-repo.js";
import { decodeLiteralMap } from "../transformers/literals.js";
import type { EngineContext } from "./engine-context.js";
import type { ExecutionView } from "./execution-view.js";
import { abortNode, type RunState, startNode } from "./node-actions.js";
import { childNodeId } from "./specs.js";
import { nestingError } from "./sub-workflow-depth.js";
import { PLAN_CHUNK } from "./workflow-plan.js";

/** Runs one planning step of an inline sub-workflow under its (RUNNING) node; true when anything changed. */
export async function stepSubWorkflow(
  ctx: EngineContext,
  trx: Knex,
  exec: ExecutionRow,
  row: NodeExecutionRow,
  spec: Node,
  view: ExecutionView,
  tasks: Map<string, TaskTemplate>,
): Promise<boolean> {
  const sub = view.subWorkflow(spec);
  if (sub === undefined) return false;
  if (view.children(row).length === 0) {
    // Checked before its first child starts: a stored closure may predate the compiler's cycle check.
    const error = nestingError(row.node_id, sub, (n) => view.subWorkflow(n));
    if (error !== undefined) {
      await ctx.nodeEvent(trx, exec, row.node_id, NodePhase.FAILED, { error });
      return true;
    }
  }
  const inputs = decodeLiteralMap(row.input_uri === "" ? undefined : await ctx.readData(trx, row.input_uri));
  const plan = await view.subPlan(row, sub, inputs);
  await view.loadWanted(plan, false, PLAN_CHUNK, (specId) => view.row(childNodeId(row.node_id, specId)));
  const run: RunState = { tasks, states: plan.nodeStates, inputs };
  let changed = false;
  for (const a of plan.next(false, PLAN_CHUNK)) {
    switch (a.kind) {
      case "start-node": {
        const placed = { ...a.node, id: childNodeId(row.node_id, a.node.id) };
        await startNode(ctx, trx, exec, placed, a.inputs, run, {
          parentNodeId: row.node_id,
          specNodeId: a.node.id,
        });
        changed = true;
        break;
      }
      case "abort-node":
        await abortNode(ctx, trx, exec, childNodeId(row.node_id, a.nodeId));
        changed = true;
        break;
      case "skip-node":
      case "failing":
        break;
      case "succeed":
        await ctx.nodeEvent(trx, exec, row.node_id, NodePhase.SUCCEEDED, { outputs: a.outputs });
        return true;
      case "fail":
        await ctx.nodeEvent(trx, exec, row.node_id, NodePhase.FAILED, { error: a.error });
        return true;
      case "aborted":
        await ctx.nodeEvent(trx, exec, row.node_id, NodePhase.ABORTED);
        return true;
    }
  }
  return changed;
}
