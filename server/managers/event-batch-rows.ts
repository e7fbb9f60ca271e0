// The event batch's node and task execution rows (see event-batch.ts): every row it knows in a slot, rows not
// written yet included (`pending`, their ids "" until the batch's flush writes them); an execution's node rows and a
// node's attempts are read once and then kept. The slots changed since the last write are the next write's rows.
import type { Knex } from "knex";
import { nodeRowsOf } from "../repositories/engine-locks.js";
import { attemptKey, type EngineWrites, type WrittenIds } from "../repositories/engine-writes.js";
import * as nodes from "../repositories/node-execution-repo.js";
import * as tasks from "../repositories/task-execution-repo.js";
import type { NodeEventEffect } from "./node-event-recorder.js";
import type { TaskEventEffect } from "./task-event-recorder.js";

/** A node row as the batch knows it; `pending` (with `row.id` "") until the row is written. */
export interface NodeSlot {
  row: nodes.NodeExecutionRow;
  pending: boolean;
  dirty: boolean;
}

export interface TaskSlot {
  readonly executionId: string;
  readonly nodeId: string;
  row: tasks.TaskExecutionRow;
  pending: boolean;
  dirty: boolean;
}

/** The slots changed since the last write (see BatchRows.dirty). */
export interface DirtyRows {
  readonly nodes: readonly NodeSlot[];
  readonly tasks: readonly TaskSlot[];
}

type RowWrites = Pick<EngineWrites, "nodeInserts" | "nodeUpdates" | "taskInserts" | "taskUpdates">;

const nodeKeyOf = (executionId: string, nodeId: string) => `${executionId}/${nodeId}`;

/** How a row not yet written looks to readers inside the transaction (database defaults filled in). */
function pendingNodeRow(r: nodes.NewNodeExecutionRow): nodes.NodeExecutionRow {
  const now = new Date();
  return {
    id: "",
    duration: 0,
    error_kind: "",
    error_code: "",
    cache_status: "",
    dynamic_workflow_uri: "",
    node_execution_updated_at: r.node_execution_created_at,
    created_at: now,
    updated_at: now,
    ...r,
  };
}

/** The same for a new attempt, from its first event's effect. */
function pendingTaskRow(key: tasks.TaskExecutionKey, effect: TaskEventEffect): tasks.TaskExecutionRow {
  const createdAt = effect.createdAt ?? new Date();
  const now = new Date();
  return {
    id: "",
    phase_version: 0,
    input_uri: "",
    started_at: null,
    task_execution_updated_at: createdAt,
    duration: 0,
    created_at: now,
    updated_at: now,
    phase: "UNDEFINED",
    ...key,
    ...effect.changes,
    task_execution_created_at: createdAt,
  };
}

export class BatchRows {
  private readonly nodes = new Map<string, NodeSlot>();
  /** The same slots per execution, in the order they became known (creation order once listed). */
  private readonly nodesOf = new Map<string, NodeSlot[]>();
  private readonly tasks = new Map<string, TaskSlot>();
  /** Node keys whose attempts are all in `tasks`. */
  private readonly attemptsLoaded = new Set<string>();
  /** Executions whose node rows are all in `nodes`. */
  private readonly listed = new Set<string>();
  /** Per execution, node slots changed (recorded, or written and given an id) since takeChangedNodes. */
  private readonly changedNodes = new Map<string, Set<NodeSlot>>();

  constructor(private readonly trx: Knex) {}

  /** All the node rows of these executions (read with their locks); rows the batch knows already are kept. */
  addNodes(executionIds: readonly string[], rows: readonly nodes.NodeExecutionRow[]): void {
    for (const row of rows) {
      const key = nodeKeyOf(row.execution_id, row.node_id);
      if (!this.nodes.has(key)) this.putNode(row.execution_id, key, { row, pending: false, dirty: false });
    }
    this.markListed(executionIds);
  }

  /** Executions whose node rows are all known (those this transaction created have none yet). */
  markListed(executionIds: readonly string[]): void {
    for (const id of executionIds) this.listed.add(id);
  }

  private putNode(executionId: string, key: string, slot: NodeSlot): void {
    this.nodes.set(key, slot);
    const list = this.nodesOf.get(executionId);
    if (list === undefined) this.nodesOf.set(executionId, [slot]);
    else list.push(slot);
  }

  /** Every node row of an execution, in creation order, including rows not written yet (see EventBatch). */
  async liveNodeRows(executionId: string): Promise<readonly Readonly<nodes.NodeExecutionRow>[]> {
    if (!this.listed.has(executionId))
      this.addNodes([executionId], await nodeRowsOf(this.trx, [executionId]));
    return (this.nodesOf.get(executionId) ?? []).map((s) => s.row);
  }

  /** The execution's node rows changed since the last call. */
  takeChangedNodes(executionId: string): Readonly<nodes.NodeExecutionRow>[] {
    const slots = this.changedNodes.get(executionId);
    if (slots === undefined) return [];
    this.changedNodes.delete(executionId);
    return [...slots].map((s) => s.row);
  }

  private touch(executionId: string, slot: NodeSlot): void {
    const slots = this.changedNodes.get(executionId);
    if (slots === undefined) this.changedNodes.set(executionId, new Set([slot]));
    else slots.add(slot);
  }

  /** A node's slot, its row read when the batch does not know it yet; undefined when there is no such row. */
  async nodeSlot(executionId: string, nodeId: string): Promise<NodeSlot | undefined> {
    const key = nodeKeyOf(executionId, nodeId);
    const known = this.nodes.get(key);
    if (known !== undefined || this.listed.has(executionId)) return known;
    const row = await nodes.getNodeExecution(this.trx, executionId, nodeId, true);
    if (row === undefined) return undefined;
    const slot = { row, pending: false, dirty: false };
    this.putNode(executionId, key, slot);
    return slot;
  }

  /** A node event's effect on the node's slot (undefined for its first event). */
  applyNode(executionId: string, nodeId: string, slot: NodeSlot | undefined, effect: NodeEventEffect): void {
    if (effect.kind === "insert") {
      const inserted = { row: pendingNodeRow(effect.row), pending: true, dirty: true };
      this.putNode(executionId, nodeKeyOf(executionId, nodeId), inserted);
      this.touch(executionId, inserted);
    } else if (slot !== undefined) {
      Object.assign(slot.row, effect.changes);
      slot.dirty = true;
      this.touch(executionId, slot);
    }
  }

  /** A stored node's attempts, read with its execution's lock (taskSlot reads them no more). */
  addAttempts(executionId: string, nodeId: string, rows: readonly tasks.TaskExecutionRow[]): void {
    const nodeKey = nodeKeyOf(executionId, nodeId);
    if (this.attemptsLoaded.has(nodeKey)) return;
    for (const row of rows)
      this.tasks.set(this.taskKey(nodeKey, row), { executionId, nodeId, row, pending: false, dirty: false });
    this.attemptsLoaded.add(nodeKey);
  }

  /** An attempt's slot, the node's attempts read first (once) unless its row is not written yet. */
  async taskSlot(
    executionId: string,
    nodeId: string,
    node: NodeSlot,
    key: Omit<tasks.TaskExecutionKey, "node_execution_id">,
  ): Promise<TaskSlot | undefined> {
    const nodeKey = nodeKeyOf(executionId, nodeId);
    if (!this.attemptsLoaded.has(nodeKey)) {
      const stored = node.pending ? [] : await tasks.taskExecutionsOf(this.trx, node.row.id);
      this.addAttempts(executionId, nodeId, stored);
    }
    return this.tasks.get(this.taskKey(nodeKey, key));
  }

  /** A task event's effect on the attempt's slot (undefined for its first event). */
  applyTask(
    executionId: string,
    nodeId: string,
    key: tasks.TaskExecutionKey,
    slot: TaskSlot | undefined,
    effect: TaskEventEffect,
  ): void {
    if (slot !== undefined) {
      Object.assign(slot.row, effect.changes);
      slot.dirty = true;
      return;
    }
    const row = pendingTaskRow(key, effect);
    const nodeKey = nodeKeyOf(executionId, nodeId);
    this.tasks.set(this.taskKey(nodeKey, key), { executionId, nodeId, row, pending: true, dirty: true });
  }

  private taskKey(nodeKey: string, k: Omit<tasks.TaskExecutionKey, "node_execution_id">): string {
    return JSON.stringify([nodeKey, k.project, k.domain, k.name, k.version, k.retry_attempt]);
  }

  /** The slots the next write carries. */
  dirty(): DirtyRows {
    return {
      nodes: [...this.nodes.values()].filter((s) => s.dirty),
      tasks: [...this.tasks.values()].filter((s) => s.dirty),
    };
  }

  /** The rows of dirty slots as engine writes; a new attempt names its node, whose row may be new too. */
  writesOf(d: DirtyRows): RowWrites {
    return {
      nodeInserts: d.nodes.filter((s) => s.pending).map((s) => s.row),
      nodeUpdates: d.nodes.filter((s) => !s.pending).map((s) => s.row),
      taskInserts: d.tasks
        .filter((s) => s.pending)
        .map((s) => ({
          ...s.row,
          node_execution_id: this.nodeRowId(s),
          execution_id: s.executionId,
          node_id: s.nodeId,
        })),
      taskUpdates: d.tasks.filter((s) => !s.pending).map((s) => s.row),
    };
  }

  /** Once the slots' rows are written: new rows get their ids, and no slot is dirty. */
  written(d: DirtyRows, ids: WrittenIds): void {
    for (const s of d.nodes) {
      if (s.pending) {
        const id = ids.nodes.get(nodeKeyOf(s.row.execution_id, s.row.node_id));
        if (id === undefined) throw new Error(`node ${s.row.node_id} was not written`);
        s.row.id = id;
        s.pending = false;
        this.touch(s.row.execution_id, s);
      }
      s.dirty = false;
    }
    for (const s of d.tasks) {
      if (s.pending) {
        s.row.node_execution_id = this.nodeRowId(s);
        const id = ids.tasks.get(attemptKey(s.row));
        if (id === undefined)
          throw new Error(`attempt ${s.row.retry_attempt} of ${s.nodeId} was not written`);
        s.row.id = id;
        s.pending = false;
      }
      s.dirty = false;
    }
  }

  /** The id of an attempt's node row ("" while it is not written). */
  private nodeRowId(s: TaskSlot): string {
    return this.nodes.get(nodeKeyOf(s.executionId, s.nodeId))?.row.id ?? "";
  }
}
