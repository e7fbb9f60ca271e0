// One execution's node rows as an evaluation sees them, indexed, with a WorkflowPlan per workflow level, kept up to
// date from the event batch's record of changed rows. Built once per evaluation transaction (one pass over the
// rows); each later round costs what changed since the previous one.
import type { Knex } from "knex";
import type { CompiledWorkflow, CompiledWorkflowClosure } from "../../gen/flyteidl/core/compiler_pb.js";
import type { LiteralMap } from "../../gen/flyteidl/core/literals_pb.js";
import type { TaskTemplate } from "../../gen/flyteidl/core/tasks_pb.js";
import type { Node } from "../../gen/flyteidl/core/workflow_pb.js";
import type { NodeExecutionRow } from "../repositories/node-execution-repo.js";
import type { EngineContext } from "./engine-context.js";
import { durationMs } from "./gates.js";
import { nodeState, nodeStatus } from "./node-actions.js";
import { type Located, locateSpec, specNodeId, subWorkflowOf, tasksOf } from "./specs.js";
import { WorkflowPlan } from "./workflow-plan.js";

const YIELD_EVERY_ROWS = 256;

const isSentinel = (nodeId: string) => nodeId === "start-node" || nodeId === "end-node";

/** Whether a node in this phase may move on its own when stepped (see evaluator's stepRunningNodes). */
function steppable(row: NodeExecutionRow, specOf: (row: NodeExecutionRow) => Node | undefined): boolean {
  if (row.phase === "DYNAMIC_RUNNING") return true; // its children move it
  if (row.phase !== "QUEUED" && row.phase !== "RUNNING") return false; // finished rows never need their spec here
  const spec = specOf(row);
  if (spec === undefined) return false;
  const task = spec.target.case === "taskNode";
  if (row.phase === "QUEUED") return task; // waiting for a serializable cache reservation
  if (row.phase !== "RUNNING") return false;
  return !task || durationMs(spec.metadata?.timeout) > 0; // a plain running task moves by its attempt's events
}

export class ExecutionView {
  private readonly byNode = new Map<string, NodeExecutionRow>();
  private readonly byRowId = new Map<string, NodeExecutionRow>();
  private readonly childrenOf = new Map<string, NodeExecutionRow[]>();
  private readonly specs = new Map<string, Located | undefined>();
  /** Dynamic nodes' compiled workflows, by row id. */
  private readonly dynamics = new Map<string, CompiledWorkflowClosure>();
  private readonly seenPhase = new Map<string, string>();
  /** Node ids of rows that may move on their own, in the order they became so. */
  private readonly active = new Set<string>();
  /** Inline sub-workflow plans, by the row id of their workflow node. */
  private readonly subPlans = new Map<string, WorkflowPlan>();
  private nestedRunning = 0;
  readonly top: WorkflowPlan | undefined;

  private constructor(
    private readonly ctx: EngineContext,
    private readonly trx: Knex,
    private readonly executionId: string,
    private readonly closure: CompiledWorkflowClosure,
    private readonly maxParallelism: number,
    inputs: LiteralMap,
  ) {
    const primary = closure.primary;
    this.top = primary === undefined ? undefined : new WorkflowPlan(primary, inputs, maxParallelism);
  }

  /** The view of a locked execution: every node row it has, as this transaction sees them. */
  static async load(
    ctx: EngineContext,
    trx: Knex,
    executionId: string,
    closure: CompiledWorkflowClosure,
    inputs: LiteralMap,
    maxParallelism: number,
  ): Promise<ExecutionView> {
    const view = new ExecutionView(ctx, trx, executionId, closure, maxParallelism, inputs);
    const batch = ctx.batch(trx);
    batch.takeChangedNodes(executionId); // everything is read below
    await view.apply(await batch.liveNodeRows(executionId));
    return view;
  }

  /** Takes in the rows the batch changed since the last look. */
  async refresh(): Promise<void> {
    await this.apply(this.ctx.batch(this.trx).takeChangedNodes(this.executionId));
  }

  private async apply(rows: readonly NodeExecutionRow[]): Promise<void> {
    let n = 0;
    for (const row of rows) {
      // A big execution's first look takes a while: let other work run in between.
      if (++n % YIELD_EVERY_ROWS === 0) await new Promise((resolve) => setImmediate(resolve));
      if (isSentinel(row.node_id)) continue;
      const first = !this.byNode.has(row.node_id);
      if (first) {
        this.byNode.set(row.node_id, row);
        if (row.parent_id !== null) {
          const siblings = this.childrenOf.get(row.parent_id);
          if (siblings === undefined) this.childrenOf.set(row.parent_id, [row]);
          else siblings.push(row);
        }
      }
      if (row.id !== "") this.byRowId.set(row.id, row);
      if (row.dynamic_workflow_uri !== "" && !this.dynamics.has(row.id)) {
        const dynamic = await this.ctx.dynamicWorkflow(this.trx, row.dynamic_workflow_uri);
        if (dynamic !== undefined) this.dynamics.set(row.id, dynamic);
      }
      const before = this.seenPhase.get(row.node_id);
      if (before === row.phase) continue;
      this.seenPhase.set(row.node_id, row.phase);
      if (row.parent_id !== null)
        this.nestedRunning += (row.phase === "RUNNING" ? 1 : 0) - (before === "RUNNING" ? 1 : 0);
      if (steppable(row, (r) => this.spec(r))) this.active.add(row.node_id);
      else this.active.delete(row.node_id);
      await this.updatePlan(row);
    }
  }

  private async updatePlan(row: NodeExecutionRow): Promise<void> {
    const plan = row.parent_id === null ? this.top : this.subPlans.get(row.parent_id);
    if (plan === undefined) return;
    const status = nodeStatus(row);
    // Outputs are read when a plan wants them (loadWanted); a failure's error is read now.
    const state = status === "failed" ? await nodeState(this.ctx, this.trx, row, false) : { status };
    plan.update(row.parent_id === null ? row.node_id : specNodeId(row), state);
  }

  /** The template node a row runs. */
  spec(row: NodeExecutionRow): Node | undefined {
    return this.located(row)?.node;
  }

  private located(row: NodeExecutionRow): Located | undefined {
    if (this.specs.has(row.node_id)) return this.specs.get(row.node_id);
    const at = locateSpec(
      this.closure,
      (id) => this.byRowId.get(id),
      row,
      (r) => this.dynamics.get(r.id),
    );
    this.specs.set(row.node_id, at);
    return at;
  }

  /** The closure a row's template node belongs to (the execution's, or a dynamic node's). */
  closureOf(row: NodeExecutionRow): CompiledWorkflowClosure {
    return this.located(row)?.closure ?? this.closure;
  }

  /** The task templates a row's node may use, by identifier key. */
  tasksOf(row: NodeExecutionRow): Map<string, TaskTemplate> {
    return tasksOf(this.closureOf(row));
  }

  /** The workflow a dynamic node's row runs, once its task produced one. */
  dynamicOf(row: NodeExecutionRow): CompiledWorkflowClosure | undefined {
    return this.dynamics.get(row.id);
  }

  /** Whether a row runs under a dynamic node, at any depth. */
  inDynamicChain(row: NodeExecutionRow): boolean {
    for (let p = row.parent_id; p !== null; ) {
      if (this.dynamics.has(p)) return true;
      p = this.byRowId.get(p)?.parent_id ?? null;
    }
    return false;
  }

  rowById(rowId: string): NodeExecutionRow | undefined {
    return this.byRowId.get(rowId);
  }

  row(nodeId: string): NodeExecutionRow | undefined {
    return this.byNode.get(nodeId);
  }

  /** Rows under a parent row, in creation order. */
  children(parent: NodeExecutionRow): readonly NodeExecutionRow[] {
    return this.childrenOf.get(parent.id) ?? [];
  }

  /** Rows that may move on their own (see steppable), as a snapshot. */
  activeRows(): NodeExecutionRow[] {
    return [...this.active].flatMap((id) => this.byNode.get(id) ?? []);
  }

  /** Running nodes under a parent (array elements, sub-workflow and branch children). */
  get runningNested(): number {
    return this.nestedRunning;
  }

  /** The plan of the inline sub-workflow a running workflow node runs, built on first use. */
  async subPlan(row: NodeExecutionRow, sub: CompiledWorkflow, inputs: LiteralMap): Promise<WorkflowPlan> {
    const known = this.subPlans.get(row.id);
    if (known !== undefined) return known;
    const plan = new WorkflowPlan(sub, inputs, this.maxParallelism);
    this.subPlans.set(row.id, plan);
    for (const child of this.children(row)) {
      const status = nodeStatus(child);
      const state = status === "failed" ? await nodeState(this.ctx, this.trx, child, false) : { status };
      plan.update(specNodeId(child), state);
    }
    return plan;
  }

  /** Reads the outputs a plan's next step needs (ids are the plan's node ids; `rowOf` finds their rows). */
  async loadWanted(
    plan: WorkflowPlan,
    aborting: boolean,
    limit: number,
    rowOf: (planNodeId: string) => NodeExecutionRow | undefined = (id) => this.byNode.get(id),
  ): Promise<void> {
    for (const id of plan.outputsWanted(aborting, limit)) {
      const row = rowOf(id);
      if (row !== undefined) plan.update(id, await nodeState(this.ctx, this.trx, row, true));
    }
  }

  /** The sub-workflow a workflow node runs, if it is an inline one (`row`: where the node sits, for its closure). */
  subWorkflow(spec: Node | undefined, row?: NodeExecutionRow): CompiledWorkflow | undefined {
    return subWorkflowOf(row === undefined ? this.closure : this.closureOf(row), spec);
  }
}
