// The engine's unit of work for node and task events: inside one transaction that holds the row locks of the
// executions it works on, events are decided by the same rules as the Create{Node,Task}Event rpcs (applyNodeEvent /
// applyTaskEvent) against rows kept in memory, and flush() writes the resulting rows and blobs — with the
// execution rows' changes, the finished work items and the watchers' notifications — in one statement. Reads of
// those rows and blobs inside the transaction go through the batch, so they see its writes. One batch may cover
// many executions (the evaluator locks and loads them together). The rows are kept by BatchRows
// (event-batch-rows.ts), the blobs by BatchBlobs (event-batch-blobs.ts).
import { randomUUID } from "node:crypto";
import type { Knex } from "knex";
import type { NodeExecutionEvent, TaskExecutionEvent } from "../../gen/flyteidl/event/event_pb.js";
import { notFound } from "../errors.js";
import { OutboxCollector, type OutboxPolicy } from "../notifications/outbox-collector.js";
import type { BlobWrite, DataStore } from "../repositories/data-store.js";
import {
  type AttemptsOf,
  type Completion,
  type Locked,
  lockExecutions,
} from "../repositories/engine-locks.js";
import {
  EXECUTION_EVENT_COLUMNS,
  type LeasedTask,
  leasedKey,
  writeEngineBatch,
} from "../repositories/engine-writes.js";
import type { ExecutionRow } from "../repositories/execution-repo.js";
import type * as nodes from "../repositories/node-execution-repo.js";
import type * as tasks from "../repositories/task-execution-repo.js";
import { type CreatedExecution, completeWork } from "../repositories/work-repo.js";
import { BatchBlobs } from "./event-batch-blobs.js";
import { BatchRows } from "./event-batch-rows.js";
import { applyNodeEvent, parentTaskExecutionId } from "./node-event-recorder.js";
import { applyTaskEvent, nodeMissing, taskKeyOf } from "./task-event-recorder.js";
import { WATCH_CHANNEL } from "./workflow-event-recorder.js";

const PROCESS_TAG = randomUUID().slice(0, 8);
let batches = 0;

const EXECUTION_EVENT_KEYS = new Set<string>(EXECUTION_EVENT_COLUMNS.map(([c]) => c));

export class EventBatch {
  private readonly rows: BatchRows;
  private readonly blobs: BatchBlobs;
  /** Execution rows locked by this transaction, as it sees them (pending changes applied). */
  private readonly executions = new Map<string, ExecutionRow>();
  private readonly changedExecutions = new Set<string>();
  private completed: { ids: string[]; owner: string } | undefined;
  private leased: { owner: string; leaseMs: number; attempts: LeasedTask[] } | undefined;
  /** The ids of the leased work items written, by leasedKey. */
  private readonly leasedIds = new Map<string, string>();
  /** Events and blobs recorded since the last flush (how much the next flush writes, roughly). */
  private recorded = 0;
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
    this.rows = new BatchRows(trx);
    this.blobs = new BatchBlobs(trx, data);
  }

  /** Messages (notifications, event-sink CloudEvents) written with this transaction's rows. */
  readonly outbox: OutboxCollector;

  /**
   * Locks executions (in id order), with their small input blobs; with `withNodes`, their node rows are loaded in
   * the same round trip (for a transaction that works on all of them). Returns the rows that exist.
   */
  async lock(ids: readonly string[], withNodes = false): Promise<ExecutionRow[]> {
    await this.load(ids, withNodes);
    return this.lockedRows(ids);
  }

  /**
   * lock() of one execution for a task attempt's result, in one round trip with it: the attempt's work item completed
   * (deleted) if it is still leased to its owner — `completed` says whether it was, else another engine owns it now —
   * and the attempts of its node read.
   */
  async lockForAttempt(
    id: string,
    nodeId: string,
    withNodes: boolean,
    complete: Completion,
  ): Promise<{ exec: ExecutionRow | undefined; completed: boolean }> {
    const loaded = await this.load([id], withNodes, { complete, attemptsOf: { executionId: id, nodeId } });
    if (loaded?.attempts !== undefined) this.rows.addAttempts(id, nodeId, loaded.attempts);
    const completed = loaded?.completed ?? (await completeWork(this.trx, complete.itemId, complete.owner));
    return { exec: this.lockedRows([id])[0], completed };
  }

  /** Locks and loads the executions not loaded yet (undefined when all were), with what `also` asks for. */
  private async load(
    ids: readonly string[],
    withNodes: boolean,
    also: { readonly complete?: Completion; readonly attemptsOf?: AttemptsOf } = {},
  ): Promise<Locked | undefined> {
    const wanted = ids.filter((id) => !this.executions.has(id));
    if (wanted.length === 0) return undefined;
    const loaded = await lockExecutions(this.trx, wanted, this.maxPrefetchBytes, { withNodes, ...also });
    for (const { row, inputs } of loaded.locked) this.keep(row, inputs);
    if (loaded.nodes !== undefined) this.rows.addNodes(wanted, loaded.nodes);
    return loaded;
  }

  private lockedRows(ids: readonly string[]): ExecutionRow[] {
    return ids.flatMap((id) => {
      const row = this.executions.get(id);
      return row === undefined ? [] : [{ ...row }];
    });
  }

  /**
   * Takes the rows of executions this transaction created, as their INSERT returned them: nobody else sees them before
   * commit (no lock to take), and they have no node rows yet (none to read). Inputs above the prefetch size are left
   * to be read when needed, as lock() leaves them.
   */
  adoptCreated(created: readonly CreatedExecution[]): void {
    for (const { row, inputs } of created) this.keep(row, inputs);
    this.rows.markListed(created.map((c) => c.row.id));
  }

  /** An execution row this transaction holds, with its inputs blob when small enough to keep (the prefetch size). */
  private keep(row: ExecutionRow, inputs: Uint8Array | undefined): void {
    this.executions.set(row.id, row);
    if (inputs !== undefined && inputs.byteLength <= this.maxPrefetchBytes)
      this.cacheData(row.inputs_uri, inputs);
  }

  /**
   * Every node row of an execution, in creation order, including rows not written yet. The rows are the batch's own
   * (they change as events are recorded): read them, never write them.
   */
  async liveNodeRows(executionId: string): Promise<readonly Readonly<nodes.NodeExecutionRow>[]> {
    return this.rows.liveNodeRows(executionId);
  }

  /** The execution's node rows changed since the last call (the batch's own rows, see liveNodeRows). */
  takeChangedNodes(executionId: string): Readonly<nodes.NodeExecutionRow>[] {
    return this.rows.takeChangedNodes(executionId);
  }

  /** A node row as this transaction sees it, written or not (the batch's own row: read it, never write it). */
  async liveNode(executionId: string, nodeId: string): Promise<Readonly<nodes.NodeExecutionRow> | undefined> {
    return (await this.rows.nodeSlot(executionId, nodeId))?.row;
  }

  /** A stored node row (written first when it is still pending), for code that needs its id. */
  async storedNode(executionId: string, nodeId: string): Promise<nodes.NodeExecutionRow | undefined> {
    const slot = await this.rows.nodeSlot(executionId, nodeId);
    if (slot?.pending === true) await this.flush();
    return slot === undefined ? undefined : { ...slot.row };
  }

  /**
   * A task attempt's row as this transaction sees it, written or not (the batch's own row: read it, never write it).
   * The node's attempts are read once per batch (as recording their events does).
   */
  async liveAttempt(
    executionId: string,
    nodeId: string,
    key: Omit<tasks.TaskExecutionKey, "node_execution_id">,
  ): Promise<Readonly<tasks.TaskExecutionRow> | undefined> {
    const node = await this.rows.nodeSlot(executionId, nodeId);
    return node === undefined ? undefined : (await this.rows.taskSlot(executionId, nodeId, node, key))?.row;
  }

  async recordNode(exec: ExecutionRow, e: NodeExecutionEvent): Promise<void> {
    const nodeId = e.id?.nodeId ?? "";
    const slot = await this.rows.nodeSlot(exec.id, nodeId);
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
    this.rows.applyNode(exec.id, nodeId, slot, effect);
  }

  async recordTask(exec: ExecutionRow, e: TaskExecutionEvent): Promise<void> {
    const nodeId = e.parentNodeExecutionId?.nodeId ?? "";
    const node = await this.rows.nodeSlot(exec.id, nodeId);
    if (node === undefined) throw nodeMissing(e);
    const key = taskKeyOf(node.row.id, e);
    const slot = await this.rows.taskSlot(exec.id, nodeId, node, key);
    const effect = applyTaskEvent(this.data.root, exec, slot?.row, e);
    this.outbox.task(exec, e);
    this.addBlobs(effect.blobs);
    this.recorded++;
    this.rows.applyTask(exec.id, nodeId, key, slot, effect);
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
    return this.blobs.committed();
  }

  /** The executions whose watchers this transaction told (to publish in-process once it committed). */
  toldWatchers(): readonly string[] {
    return [...this.told];
  }

  /** A stored blob that was read together with another row. */
  cacheData(uri: string, data: Uint8Array): void {
    this.blobs.cacheData(uri, data);
  }

  addBlobs(blobs: readonly BlobWrite[]): void {
    this.recorded += blobs.length;
    this.blobs.add(blobs);
  }

  /** A blob as this transaction sees it (its own writes included); reads are cached for the batch's life. */
  async readData(uri: string): Promise<Uint8Array | undefined> {
    return this.blobs.read(uri);
  }

  /** Roughly how many rows the next flush writes. */
  get pendingWrites(): number {
    return this.recorded;
  }

  /**
   * Writes everything pending in one statement; new rows get their ids. `last`: the transaction commits right after
   * (the COMMIT is sent with the statement unless blobs must reach the store first).
   */
  async flush(last = false): Promise<void> {
    this.recorded = 0;
    const rows = this.rows.dirty();
    const blobs = this.blobs.take();
    const executions = [...this.changedExecutions].flatMap((id) => this.executions.get(id) ?? []);
    const completed = this.completed;
    const leased = this.leased;
    const notified = [...this.notified];
    const messages = this.outbox.take();
    if (
      rows.nodes.length +
        rows.tasks.length +
        blobs.length +
        executions.length +
        notified.length +
        messages.length ===
        0 &&
      completed === undefined &&
      leased === undefined
    )
      return;
    this.changedExecutions.clear();
    this.completed = undefined;
    this.leased = undefined;
    this.notified.clear();
    const { copies, stored } = this.blobs.write(blobs);
    const written = writeEngineBatch(this.trx, {
      blobs: copies,
      executions,
      ...this.rows.writesOf(rows),
      ...(completed !== undefined ? { completed } : {}),
      ...(leased !== undefined ? { leased } : {}),
      notify: { channel: WATCH_CHANNEL, payloads: notified.map((id) => `${id}#${this.token}`) },
      messages,
      last: last && stored === undefined,
    });
    const [ids] = await Promise.all([written, stored]);
    for (const [k, id] of ids.leased) this.leasedIds.set(k, id);
    this.rows.written(rows, ids);
  }
}
