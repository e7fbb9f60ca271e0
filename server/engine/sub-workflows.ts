// Inline sub-workflow nodes: the sub-workflow is planned like the primary one, with its nodes placed under the
// workflow node's row (ids `<parent>-0-<node>`, as propeller names them).
import type { Knex } from "knex";
import type { CompiledWorkflowClosure } from "../../gen/flyteidl/core/compiler_pb.js";
import { NodeExecution_Phase as NodePhase } from "../../gen/flyteidl/core/execution_pb.js";
import type { TaskTemplate } from "../../gen/flyteidl/core/tasks_pb.js";
import type { Node } from "../../gen/flyteidl/core/workflow_pb.js";
import type { ExecutionRow } from "../repositories/execution-repo.js";
import type { NodeExecutionRow } from "../repositories/node-execution-repo.js";
import { decodeLiteralMap } from "../transformers/literals.js";
import type { EngineContext } from "./engine-context.js";
import { abortNode, plannerStates, type RunState, startNode } from "./node-actions.js";
import { planExecution } from "./plan.js";
import { childNodeId, specNodeId, subWorkflowOf } from "./specs.js";

/** Runs one planning step of an inline sub-workflow under its (RUNNING) node; true when anything changed. */
export async function stepSubWorkflow(
  ctx: EngineContext,
  trx: Knex,
  exec: ExecutionRow,
  row: NodeExecutionRow,
  all: readonly NodeExecutionRow[],
  spec: Node,
  closure: CompiledWorkflowClosure,
  tasks: Map<string, TaskTemplate>,
  maxParallelism: number,
): Promise<boolean> {
  const sub = subWorkflowOf(closure, spec);
  if (sub === undefined) return false;
  const children = all.filter((c) => c.parent_id === row.id);
  const nodes = await plannerStates(ctx, trx, sub, children, specNodeId);
  const inputs = decodeLiteralMap(row.input_uri === "" ? undefined : await ctx.readData(trx, row.input_uri));
  const run: RunState = { tasks, states: nodes, inputs };
  let changed = false;
  for (const a of planExecution({ workflow: sub, inputs, nodes, aborting: false, maxParallelism })) {
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
