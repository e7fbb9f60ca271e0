// The engine's unit of work for node and task events: inside one transaction that holds the row locks of the
// executions it works on, events are decided by the same rules as the Create{Node,Task}Event rpcs (applyNodeEvent /
// applyTaskEvent) against rows kept in memory, and flush() writes the resulting rows and blobs — with the
// execution rows' changes, the finished work items and the watchers' notifications — in one statement. Reads of
// those rows and blobs inside the transaction go through the batch, so they see its writes. One batch may cover
// many executions (the evaluator locks and loads them together).
import { randomUUID } from "node:crypto";
import type { Knex } from "knex";
import type { NodeExecutionEvent, TaskExecutionEvent } from "../../gen/flyteidl/event/event_pb.js";
import { notFound } from "../errors.js";
import { OutboxCollector, type OutboxPolicy } from "../notifications/outbox-collector.js";
import type { BlobWrite, DataStore } from "../repositories/data-store.js";
import { lockExecutions, lockExecutionsWithNodes, nodeRowsOf } from "../repositories/engine-locks.js";
import {
  attemptKey,
  EXECUTION_EVENT_COLUMNS,
  type LeasedTask,
  leasedKey,
  writeEngineBatch,
} from "../repositories/engine-writes.js";
import type { ExecutionRow } from "../repositories/execution-repo.js";
import * as nodes from "../repositories/node-execution-repo.js";
import * as tasks from "../repositories/task-execution-repo.js";
import { applyNodeEvent, parentTaskExecutionId } from "./node-event-recorder.js";
import { applyTaskEvent, nodeMissing, taskKeyOf } from "./task-event-recorder.js";
import { WATCH_CHANNEL } from "./workflow-event-recorder.js";

/** A node row as the batch knows it; `pending` (with `row.id` "") until the row is written. */
interface NodeSlot {
  row: nodes.NodeExecutionRow;
  pending: boolean;
  dirty: boolean;
}

interface TaskSlot {
  readonly executionId: string;
  readonly nodeId: string;
  row: tasks.TaskExecutionRow;
  pending: boolean;
  dirty: boolean;
}

const PROCESS_TAG = randomUUID().slice(0, 8);
let batches = 0;

const nodeKeyOf = (executionId: string, nodeId: string) => `${executionId}/${nodeId}`;
const EXECUTION_EVENT_KEYS = new Set<string>(EXECUTION_EVENT_COLUMNS.map(([c]) => c));

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

export class EventBatch {
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
  private readonly pendingBlobs = new Map<string, Uint8Array>();
  private readonly blobCache = new Map<string, Uint8Array | undefined>();
  /** Execution rows locked by this transaction, as it sees them (pending changes applied). */
  private readonly executions = new Map<string, ExecutionRow>();
  private readonly changedExecutions = new Set<string>();
  private completed: { ids: string[]; owner: string } | undefined;
  private leased: { owner: string; leaseMs: number; attempts: LeasedTask[] } | undefined;
  /** The ids of the leased work items written, by leasedKey. */
  private readonly leasedIds = new Map<string, string>();
  /** Events and blobs recorded since the last flush (how much the next flush writes, roughly). */
  private recorded = 0;
  /** Blobs whose database copies this transaction wrote: their store copies are due once it commits. */
  private readonly copies: BlobWrite[] = [];
  private readonly notified = new Set<string>();
  /** Every execution whose watchers this batch told (flushed or not), for publishing in-process after commit. */
  private readonly told = new Set<string>();
  /** Marks this transaction's watch notifications (`<execution id>#<token>`), see NotificationHub.publishLocal. */
  readonly token = `${PROCESS_TAG}.${++batches}`;

  constructor(
    private readonly trx: Knex,
    private readonly data: DataStore,
    private readonly maxPrefetchBytes: number,
    policy?: OutboxPolicy,
  ) {
    this.outbox = new OutboxCollector(policy);
  }

  /** Messages (notifications, event-sink CloudEvents) written with this transaction's rows. */
  readonly outbox: OutboxCollector;

  /**
   * Locks executions (in id order), with their small input blobs; with `withNodes`, their node rows are loaded in
   * the same round trip (for a transaction that works on all of them). Returns the rows that exist.
   */
  async lock(ids: readonly string[], withNodes = false): Promise<ExecutionRow[]> {
    const wanted = ids.filter((id) => !this.executions.has(id));
    if (wanted.length > 0) {
      const loaded = withNodes
        ? await lockExecutionsWithNodes(this.trx, wanted, this.maxPrefetchBytes)
        : { locked: await lockExecutions(this.trx, wanted, this.maxPrefetchBytes), nodes: undefined };
      for (const { row, inputs } of loaded.locked) {
        this.executions.set(row.id, row);
        if (inputs !== undefined) this.cacheData(row.inputs_uri, inputs);
      }
      if (loaded.nodes !== undefined) this.addNodes(wanted, loaded.nodes);
    }
    return ids.flatMap((id) => {
      const row = this.executions.get(id);
      return row === undefined ? [] : [{ ...row }];
    });
  }

  /** Locks executions this transaction created: they have no node rows yet, so none are read. */
  async lockCreated(ids: readonly string[]): Promise<ExecutionRow[]> {
    const rows = await this.lock(ids);
    for (const id of ids) this.listed.add(id);
    return rows;
  }

  private addNodes(executionIds: readonly string[], rows: readonly nodes.NodeExecutionRow[]): void {
    for (const row of rows) {
      const key = nodeKeyOf(row.execution_id, row.node_id);
      if (!this.nodes.has(key)) this.putNode(row.execution_id, key, { row, pending: false, dirty: false });
    }
    for (const id of executionIds) this.listed.add(id);
  }

  private async loadNodes(executionIds: readonly string[]): Promise<void> {
    this.addNodes(executionIds, await nodeRowsOf(this.trx, executionIds));
  }

  private putNode(executionId: string, key: string, slot: NodeSlot): void {
    this.nodes.set(key, slot);
    const list = this.nodesOf.get(executionId);
    if (list === undefined) this.nodesOf.set(executionId, [slot]);
    else list.push(slot);
  }

  /**
   * Every node row of an execution, in creation order, including rows not written yet. The rows are the batch's own
   * (they change as events are recorded): read them, never write them.
   */
  async liveNodeRows(executionId: string): Promise<readonly Readonly<nodes.NodeExecutionRow>[]> {
    if (!this.listed.has(executionId)) await this.loadNodes([executionId]);
    return (this.nodesOf.get(executionId) ?? []).map((s) => s.row);
  }

  /** The execution's node rows changed since the last call (the batch's own rows, see liveNodeRows). */
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

  private async nodeSlot(executionId: string, nodeId: string): Promise<NodeSlot | undefined> {
    const key = nodeKeyOf(executionId, nodeId);
    const known = this.nodes.get(key);
    if (known !== undefined || this.listed.has(executionId)) return known;
    const row = await nodes.getNodeExecution(this.trx, executionId, nodeId, true);
    if (row === undefined) return undefined;
    const slot = { row, pending: false, dirty: false };
    this.putNode(executionId, key, slot);
    return slot;
  }

  /** A node row as this transaction sees it, written or not (the batch's own row: read it, never write it). */
  async liveNode(executionId: string, nodeId: string): Promise<Readonly<nodes.NodeExecutionRow> | undefined> {
    return (await this.nodeSlot(executionId, nodeId))?.row;
  }

  /** A stored node row (written first when it is still pending), for code that needs its id. */
  async storedNode(executionId: string, nodeId: string): Promise<nodes.NodeExecutionRow | undefined> {
    const slot = await this.nodeSlot(executionId, nodeId);
    if (slot?.pending === true) await this.flush();
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
    // A dynamic node's children name the attempt that produced them: its row must be written to be found.
    if (slot === undefined && e.parentTaskMetadata !== undefined) await this.flush();
    const parentTask = slot === undefined ? await parentTaskExecutionId(this.trx, exec, e) : null;
    const effect = applyNodeEvent(this.data.root, exec, slot?.row, e, parentId, parentTask);
    this.outbox.node(exec, e);
    this.addBlobs(effect.blobs);
    this.recorded++;
    if (effect.kind === "insert") {
      const inserted = { row: pendingNodeRow(effect.row), pending: true, dirty: true };
      this.putNode(exec.id, nodeKeyOf(exec.id, nodeId), inserted);
      this.touch(exec.id, inserted);
    } else if (slot !== undefined) {
      Object.assign(slot.row, effect.changes);
      slot.dirty = true;
      this.touch(exec.id, slot);
    }
  }

  async recordTask(exec: ExecutionRow, e: TaskExecutionEvent): Promise<void> {
    const nodeId = e.parentNodeExecutionId?.nodeId ?? "";
    const node = await this.nodeSlot(exec.id, nodeId);
    if (node === undefined) throw nodeMissing(e);
    const nodeKey = nodeKeyOf(exec.id, nodeId);
    if (!this.attemptsLoaded.has(nodeKey)) {
      if (!node.pending) {
        for (const row of await tasks.taskExecutionsOf(this.trx, node.row.id))
          this.tasks.set(this.taskKey(nodeKey, row), {
            executionId: exec.id,
            nodeId,
            row,
            pending: false,
            dirty: false,
          });
      }
      this.attemptsLoaded.add(nodeKey);
    }
    const key = taskKeyOf(node.row.id, e);
    const slot = this.tasks.get(this.taskKey(nodeKey, key));
    const effect = applyTaskEvent(this.data.root, exec, slot?.row, e);
    this.outbox.task(exec, e);
    this.addBlobs(effect.blobs);
    this.recorded++;
    if (slot !== undefined) {
      Object.assign(slot.row, effect.changes);
      slot.dirty = true;
      return;
    }
    const createdAt = effect.createdAt ?? new Date();
    const now = new Date();
    const row: tasks.TaskExecutionRow = {
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
    this.tasks.set(this.taskKey(nodeKey, key), {
      executionId: exec.id,
      nodeId,
      row,
      pending: true,
      dirty: true,
    });
  }

  private taskKey(nodeKey: string, k: Omit<tasks.TaskExecutionKey, "node_execution_id">): string {
    return JSON.stringify([nodeKey, k.project, k.domain, k.name, k.version, k.retry_attempt]);
  }

  /**
   * Applies workflow-event changes to an execution row this transaction locked; written by flush(). Returns the row
   * as the transaction now sees it.
   */
  updateExecution(row: ExecutionRow, changes: Partial<ExecutionRow>): ExecutionRow {
    for (const k of Object.keys(changes))
      if (!EXECUTION_EVENT_KEYS.has(k)) throw new Error(`the event batch does not write executions.${k}`);
    const next = { ...(this.executions.get(row.id) ?? row), ...changes };
    this.executions.set(row.id, next);
    this.changedExecutions.add(row.id);
    return { ...next };
  }

  /** A locked execution row as this transaction sees it (its pending changes applied). */
  executionView(row: ExecutionRow): ExecutionRow {
    return { ...(this.executions.get(row.id) ?? row) };
  }

  /** Removes the finished work items (still leased by `owner`) when the batch is written. */
  complete(ids: readonly string[], owner: string): void {
    this.completed = { ids: [...(this.completed?.ids ?? []), ...ids], owner };
  }

  /** Writes work items for these task attempts, leased to `owner`, when the batch is written (see leasedItem). */
  leaseTasks(owner: string, leaseMs: number, attempts: readonly LeasedTask[]): void {
    this.leased = { owner, leaseMs, attempts: [...(this.leased?.attempts ?? []), ...attempts] };
  }

  /** The id of a leased work item written by flush(). */
  leasedItem(attempt: LeasedTask): string | undefined {
    return this.leasedIds.get(leasedKey(attempt));
  }

  /** Tells the executions' watchers (on every replica) about this transaction's changes, at commit. */
  notifyWatchers(executionId: string): void {
    this.notified.add(executionId);
    this.told.add(executionId);
  }

  /** Blobs written as database copies (and outbox entries): the materializer writes their store copies after commit. */
  committedCopies(): readonly BlobWrite[] {
    return this.copies;
  }

  /** The executions whose watchers this transaction told (to publish in-process once it committed). */
  toldWatchers(): readonly string[] {
    return [...this.told];
  }

  /** A stored blob that was read together with another row. */
  cacheData(uri: string, data: Uint8Array): void {
    if (!this.blobCache.has(uri)) this.blobCache.set(uri, data);
  }

  addBlobs(blobs: readonly BlobWrite[]): void {
    this.recorded += blobs.length;
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

  /** Roughly how many rows the next flush writes. */
  get pendingWrites(): number {
    return this.recorded;
  }

  /** Writes everything pending in one statement; new rows get their ids. */
  async flush(): Promise<void> {
    this.recorded = 0;
    const nodeSlots = [...this.nodes.values()].filter((s) => s.dirty);
    const taskSlots = [...this.tasks.values()].filter((s) => s.dirty);
    const blobs = [...this.pendingBlobs].map(([uri, data]) => ({ uri, data }));
    const executions = [...this.changedExecutions].flatMap((id) => this.executions.get(id) ?? []);
    const completed = this.completed;
    const leased = this.leased;
    const notified = [...this.notified];
    const messages = this.outbox.take();
    if (
      nodeSlots.length +
        taskSlots.length +
        blobs.length +
        executions.length +
        notified.length +
        messages.length ===
        0 &&
      completed === undefined &&
      leased === undefined
    )
      return;
    this.pendingBlobs.clear();
    this.changedExecutions.clear();
    this.completed = undefined;
    this.leased = undefined;
    this.notified.clear();
    // Small blobs: their database copies are written with the rows (and entered in the blob outbox); their store
    // copies are written after commit (see committedCopies). Larger ones go to the store before the commit.
    const copies = this.data.databaseCopies(blobs);
    const copied = new Set(copies.map((b) => b.uri));
    const stored = this.data.materialize(blobs.filter((b) => !copied.has(b.uri)));
    this.copies.push(...copies);
    const written = writeEngineBatch(this.trx, {
      blobs: copies,
      executions,
      nodeInserts: nodeSlots.filter((s) => s.pending).map((s) => s.row),
      nodeUpdates: nodeSlots.filter((s) => !s.pending).map((s) => s.row),
      taskInserts: taskSlots
        .filter((s) => s.pending)
        .map((s) => ({
          ...s.row,
          node_execution_id: this.nodes.get(nodeKeyOf(s.executionId, s.nodeId))?.row.id ?? "",
          execution_id: s.executionId,
          node_id: s.nodeId,
        })),
      taskUpdates: taskSlots.filter((s) => !s.pending).map((s) => s.row),
      ...(completed !== undefined ? { completed } : {}),
      ...(leased !== undefined ? { leased } : {}),
      notify: { channel: WATCH_CHANNEL, payloads: notified.map((id) => `${id}#${this.token}`) },
      messages,
    });
    const [ids] = await Promise.all([written, stored]);
    for (const [k, id] of ids.leased) this.leasedIds.set(k, id);
    for (const s of nodeSlots) {
      if (s.pending) {
        const id = ids.nodes.get(nodeKeyOf(s.row.execution_id, s.row.node_id));
        if (id === undefined) throw new Error(`node ${s.row.node_id} was not written`);
        s.row.id = id;
        s.pending = false;
        this.touch(s.row.execution_id, s);
      }
      s.dirty = false;
    }
    for (const s of taskSlots) {
      if (s.pending) {
        s.row.node_execution_id = this.nodes.get(nodeKeyOf(s.executionId, s.nodeId))?.row.id ?? "";
        const id = ids.tasks.get(attemptKey(s.row));
        if (id === undefined)
          throw new Error(`attempt ${s.row.retry_attempt} of ${s.nodeId} was not written`);
        s.row.id = id;
        s.pending = false;
      }
      s.dirty = false;
    }
  }
}
