// The engine's unit of work for node and task events: inside one transaction that holds the execution's row lock,
// events are decided by the same rules as the Create{Node,Task}Event rpcs (applyNodeEvent / applyTaskEvent)
// against rows kept in memory, and the resulting rows and blobs are written by flush() in a few multi-row
// statements. Reads of those rows and blobs inside the transaction go through the batch, so they see its writes.
// Changes to the (locked) execution row are collected the same way and written once.
import type { Knex } from "knex";
import type { NodeExecutionEvent, TaskExecutionEvent } from "../../gen/flyteidl/event/event_pb.js";
import { notFound } from "../errors.js";
import type { BlobWrite, DataStore } from "../repositories/data-store.js";
import { type ExecutionRow, updateExecution } from "../repositories/execution-repo.js";
import * as nodes from "../repositories/node-execution-repo.js";
import * as tasks from "../repositories/task-execution-repo.js";
import { applyNodeEvent } from "./node-event-recorder.js";
import { applyTaskEvent, nodeMissing, taskKeyOf } from "./task-event-recorder.js";

/** A node row as the batch knows it; `insert` is set (and `row.id` is "") until the row is written. */
interface NodeSlot {
  row: nodes.NodeExecutionRow;
  insert?: nodes.NewNodeExecutionRow | undefined;
  dirty: boolean;
}

interface TaskSlot {
  readonly nodeKey: string;
  row: tasks.TaskExecutionRow;
  insert?: Omit<tasks.NewTaskExecutionRow, "node_execution_id"> | undefined;
  dirty: boolean;
}

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
    node_execution_updated_at: r.node_execution_created_at,
    created_at: now,
    updated_at: now,
    ...r,
  };
}

export class EventBatch {
  private readonly nodes = new Map<string, NodeSlot>();
  private readonly tasks = new Map<string, TaskSlot>();
  /** Node keys whose attempts are all in `tasks`. */
  private readonly attemptsLoaded = new Set<string>();
  /** Executions whose node rows are all in `nodes`. */
  private readonly listed = new Set<string>();
  private readonly pendingBlobs = new Map<string, Uint8Array>();
  private readonly blobCache = new Map<string, Uint8Array | undefined>();
  private readonly executionChanges = new Map<string, Partial<ExecutionRow>>();

  constructor(
    private readonly trx: Knex,
    private readonly data: DataStore,
  ) {}

  /** Every node row of an execution, in creation order, including rows not written yet. */
  async nodeRows(executionId: string): Promise<nodes.NodeExecutionRow[]> {
    if (!this.listed.has(executionId)) {
      for (const row of await nodes.nodeExecutionsOf(this.trx, executionId)) {
        const key = nodeKeyOf(executionId, row.node_id);
        if (!this.nodes.has(key)) this.nodes.set(key, { row, dirty: false });
      }
      this.listed.add(executionId);
    }
    const prefix = `${executionId}/`;
    return [...this.nodes].filter(([k]) => k.startsWith(prefix)).map(([, s]) => ({ ...s.row }));
  }

  private async nodeSlot(executionId: string, nodeId: string): Promise<NodeSlot | undefined> {
    const key = nodeKeyOf(executionId, nodeId);
    const known = this.nodes.get(key);
    if (known !== undefined || this.listed.has(executionId)) return known;
    const row = await nodes.getNodeExecution(this.trx, executionId, nodeId, true);
    if (row === undefined) return undefined;
    const slot = { row, dirty: false };
    this.nodes.set(key, slot);
    return slot;
  }

  /** A stored node row (written first when it is still pending), for code that needs its id. */
  async storedNode(executionId: string, nodeId: string): Promise<nodes.NodeExecutionRow | undefined> {
    const slot = await this.nodeSlot(executionId, nodeId);
    if (slot?.insert !== undefined) await this.flush();
    return slot === undefined ? undefined : { ...slot.row };
  }

  async recordNode(exec: ExecutionRow, e: NodeExecutionEvent): Promise<void> {
    const nodeId = e.id?.nodeId ?? "";
    const slot = await this.nodeSlot(exec.id, nodeId);
    let parentId: string | null = null;
    if (slot === undefined && e.parentNodeMetadata !== undefined) {
      const parent = await this.storedNode(exec.id, e.parentNodeMetadata.nodeId);
      if (parent === undefined) throw notFound("entry not found");
      parentId = parent.id;
    }
    const effect = applyNodeEvent(exec, slot?.row, e, parentId);
    this.addBlobs(effect.blobs);
    if (effect.kind === "insert") {
      this.nodes.set(nodeKeyOf(exec.id, nodeId), {
        row: pendingNodeRow(effect.row),
        insert: effect.row,
        dirty: true,
      });
    } else if (slot !== undefined) {
      Object.assign(slot.row, effect.changes);
      if (slot.insert !== undefined) Object.assign(slot.insert, effect.changes);
      slot.dirty = true;
    }
  }

  async recordTask(exec: ExecutionRow, e: TaskExecutionEvent): Promise<void> {
    const nodeId = e.parentNodeExecutionId?.nodeId ?? "";
    const node = await this.nodeSlot(exec.id, nodeId);
    if (node === undefined) throw nodeMissing(e);
    const nodeKey = nodeKeyOf(exec.id, nodeId);
    if (!this.attemptsLoaded.has(nodeKey)) {
      if (node.insert === undefined) {
        for (const row of await tasks.taskExecutionsOf(this.trx, node.row.id))
          this.tasks.set(this.taskKey(nodeKey, row), { nodeKey, row, dirty: false });
      }
      this.attemptsLoaded.add(nodeKey);
    }
    const key = taskKeyOf(node.row.id, e);
    const slot = this.tasks.get(this.taskKey(nodeKey, key));
    const effect = applyTaskEvent(exec, slot?.row, e);
    this.addBlobs(effect.blobs);
    if (slot !== undefined) {
      Object.assign(slot.row, effect.changes);
      if (slot.insert !== undefined) Object.assign(slot.insert, effect.changes);
      slot.dirty = true;
      return;
    }
    const { node_execution_id: _, ...attempt } = key;
    const insert = {
      ...attempt,
      ...effect.changes,
      task_execution_created_at: effect.createdAt ?? new Date(),
    };
    const now = new Date();
    const row: tasks.TaskExecutionRow = {
      id: "",
      node_execution_id: node.row.id,
      phase_version: 0,
      input_uri: "",
      started_at: null,
      task_execution_updated_at: insert.task_execution_created_at,
      duration: 0,
      created_at: now,
      updated_at: now,
      phase: "UNDEFINED",
      ...insert,
    };
    this.tasks.set(this.taskKey(nodeKey, key), { nodeKey, row, insert, dirty: true });
  }

  private taskKey(nodeKey: string, k: Omit<tasks.TaskExecutionKey, "node_execution_id">): string {
    return JSON.stringify([nodeKey, k.project, k.domain, k.name, k.version, k.retry_attempt]);
  }

  /** Changes to an execution row, written by flush(); later changes to a column win. */
  updateExecution(id: string, changes: Partial<ExecutionRow>): void {
    this.executionChanges.set(id, { ...this.executionChanges.get(id), ...changes });
  }

  /** An execution row as this transaction sees it (its pending changes applied). */
  executionView(row: ExecutionRow): ExecutionRow {
    return { ...row, ...this.executionChanges.get(row.id) };
  }

  /** A stored blob that was read together with another row. */
  cacheData(uri: string, data: Uint8Array): void {
    if (!this.blobCache.has(uri)) this.blobCache.set(uri, data);
  }

  addBlobs(blobs: readonly BlobWrite[]): void {
    for (const b of blobs) {
      this.pendingBlobs.set(b.uri, b.data);
      this.blobCache.set(b.uri, b.data);
    }
  }

  /** A blob as this transaction sees it (its own writes included); reads are cached for the batch's life. */
  async readData(uri: string): Promise<Uint8Array | undefined> {
    if (this.blobCache.has(uri)) return this.blobCache.get(uri);
    const data = await this.data.get(this.trx, uri);
    this.blobCache.set(uri, data);
    return data;
  }

  /** Writes everything pending: blobs, then node rows, then attempts (which need their node's id). */
  async flush(): Promise<void> {
    const blobs = [...this.pendingBlobs].map(([uri, data]) => ({ uri, data }));
    this.pendingBlobs.clear();
    await this.data.putMany(this.trx, blobs);
    for (const [id, changes] of this.executionChanges) await updateExecution(this.trx, id, changes);
    this.executionChanges.clear();
    const nodeSlots = [...this.nodes.values()].filter((s) => s.dirty);
    const written = [
      ...(await nodes.insertNodeExecutions(
        this.trx,
        nodeSlots.flatMap((s) => (s.insert === undefined ? [] : [s.insert])),
      )),
      ...(await nodes.updateNodeExecutions(
        this.trx,
        nodeSlots.filter((s) => s.insert === undefined).map((s) => s.row),
      )),
    ];
    for (const row of written) {
      const slot = this.nodes.get(nodeKeyOf(row.execution_id, row.node_id));
      if (slot !== undefined) Object.assign(slot, { row, insert: undefined, dirty: false });
    }
    const taskSlots = [...this.tasks.values()].filter((s) => s.dirty);
    const attempts = [
      ...(await tasks.insertTaskExecutions(
        this.trx,
        taskSlots.flatMap((s) =>
          s.insert === undefined ? [] : [{ ...s.insert, node_execution_id: this.nodeIdOf(s) }],
        ),
      )),
      ...(await tasks.updateTaskExecutions(
        this.trx,
        taskSlots.filter((s) => s.insert === undefined).map((s) => s.row),
      )),
    ];
    const byNodeRowId = new Map([...this.nodes].map(([key, s]) => [s.row.id, key]));
    for (const row of attempts) {
      const slot = this.tasks.get(this.taskKey(byNodeRowId.get(row.node_execution_id) ?? "", row));
      if (slot !== undefined) Object.assign(slot, { row, insert: undefined, dirty: false });
    }
  }

  private nodeIdOf(slot: TaskSlot): string {
    const id = this.nodes.get(slot.nodeKey)?.row.id;
    if (id === undefined || id === "") throw new Error(`node ${slot.nodeKey} was not written`);
    return id;
  }
}
