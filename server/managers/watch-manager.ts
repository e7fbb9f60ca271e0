// WatchExecution / WatchExecutions: the current state, then every committed change, pushed as it happens.
// Changes are found by comparing (phase, updated_at) with what this stream already sent. The streams' reads are
// coalesced: the ones woken by the same commits (or opened together) share one statement.
import { create } from "@bufbuild/protobuf";
import type { Knex } from "knex";
import type { WorkflowExecutionIdentifier } from "../../gen/flyteidl/core/identifier_pb.js";
import { type WatchEvent, WatchEventSchema } from "../../gen/petrel/v1/watch_pb.js";
import type { NotificationHub } from "../db/notifications.js";
import { missingField } from "../errors.js";
import { LruCache } from "../lru-cache.js";
import { EXECUTION_LIST } from "../repositories/execution-repo.js";
import {
  type ExecutionState,
  findExecutionsIn,
  loadExecutionStates,
} from "../repositories/execution-state-repo.js";
import { filtersSql } from "../repositories/list-filters.js";
import { filterScope } from "../repositories/list-spec.js";
import { TERMINAL_WORKFLOW_PHASES, workflowPhase } from "../transformers/execution.js";
import { toNodeExecution, toTaskExecution } from "../transformers/node-execution.js";
import { lazyExecutionEvent } from "../transformers/wire-answers.js";
import { parseFilters } from "../validation/filter-grammar.js";
import { executionNotFound, validateExecutionId } from "./execution-manager.js";
import { ExecutionStateLoader, MAX_BATCH } from "./execution-state-loader.js";
import { WATCH_CHANNEL } from "./workflow-event-recorder.js";

/** Resolves when rung (a ring before the wait counts) or when the stream's signal aborts. */
class Doorbell {
  private rung = false;
  private resolve: (() => void) | undefined;
  constructor(private readonly signal: AbortSignal) {
    signal.addEventListener("abort", () => this.resolve?.(), { once: true });
  }
  ring = () => {
    this.rung = true;
    this.resolve?.();
  };
  wait(): Promise<void> {
    if (this.rung || this.signal.aborted) {
      this.rung = false;
      return Promise.resolve();
    }
    return new Promise((r) => {
      this.resolve = () => {
        this.rung = false;
        this.resolve = undefined;
        r();
      };
    });
  }
}

const version = (phase: string, updated: Date) => `${phase}@${updated.getTime()}`;
const ROW_ID = /^[0-9]+$/;
/** How many executions a WatchExecutions stream remembers the last sent version of. */
const WATCHED_EXECUTIONS = 1024;

export class WatchManager {
  private readonly loader: ExecutionStateLoader;

  constructor(
    private readonly db: Knex,
    private readonly hub: NotificationHub,
  ) {
    this.loader = new ExecutionStateLoader((ids, keys) => loadExecutionStates(db, ids, keys));
  }

  async *watchExecution(
    id: WorkflowExecutionIdentifier | undefined,
    signal: AbortSignal,
  ): AsyncGenerator<WatchEvent> {
    const key = validateExecutionId(id);
    const bell = new Doorbell(signal);
    // Subscribed (to every execution) before the first read, so no change committed after that read goes
    // unnoticed; once the row id is known, the stream listens to its own execution's notifications only.
    const early = new Set<string>();
    let unsubscribe = this.hub.subscribe(WATCH_CHANNEL, (payload) => early.add(payload));
    const sent = new Map<string, string>();
    try {
      let state = await this.loader.byKey(key);
      if (state === undefined) throw executionNotFound(key);
      const rowId = state.exec.id;
      unsubscribe();
      unsubscribe = this.hub.subscribePayload(WATCH_CHANNEL, rowId, bell.ring);
      if (early.has(rowId)) bell.ring();
      early.clear();
      while (state !== undefined) {
        yield* this.changes(state, sent);
        if (TERMINAL_WORKFLOW_PHASES.has(workflowPhase(state.exec.phase))) return;
        // Rings while the stream reads or sends fold into one: at most one more read, which sees them all.
        await bell.wait();
        if (signal.aborted) return;
        state = await this.loader.byId(rowId);
      }
    } finally {
      unsubscribe();
    }
  }

  /** The events for what changed since the stream last sent: the execution first on the initial read, else last. */
  private changes({ exec, nodes, tasks }: ExecutionState, sent: Map<string, string>): WatchEvent[] {
    const events: WatchEvent[] = [];
    const initial = sent.size === 0;
    const execEvent = this.diff(sent, "exec", version(exec.phase, exec.updated_at), () =>
      lazyExecutionEvent(exec),
    );
    if (initial && execEvent !== undefined) events.push(execEvent);
    const byId = new Map(nodes.map((n) => [n.id, n.node_id]));
    for (const n of nodes) {
      const e = this.diff(sent, `n:${n.id}`, version(n.phase, n.updated_at), () =>
        create(WatchEventSchema, { kind: { case: "nodeExecution", value: toNodeExecution(exec, n) } }),
      );
      if (e !== undefined) events.push(e);
    }
    for (const t of tasks) {
      const e = this.diff(sent, `t:${t.id}`, version(t.phase, t.updated_at), () =>
        create(WatchEventSchema, {
          kind: {
            case: "taskExecution",
            value: toTaskExecution(exec, byId.get(t.node_execution_id) ?? "", t),
          },
        }),
      );
      if (e !== undefined) events.push(e);
    }
    if (!initial && execEvent !== undefined) events.push(execEvent);
    return events;
  }

  private diff(
    sent: { get(key: string): string | undefined; set(key: string, value: string): unknown },
    key: string,
    v: string,
    make: () => WatchEvent,
  ): WatchEvent | undefined {
    if (sent.get(key) === v) return undefined;
    sent.set(key, v);
    return make();
  }

  async *watchExecutions(
    req: { project: string; domain: string; filters: string },
    signal: AbortSignal,
  ): AsyncGenerator<WatchEvent> {
    if (req.project === "") throw missingField("project");
    if (req.domain === "") throw missingField("domain");
    const filters = parseFilters(req.filters, filterScope(EXECUTION_LIST));
    filtersSql(filters, EXECUTION_LIST); // a bad value is refused now, not at the first change
    const pending = new Set<string>();
    const bell = new Doorbell(signal);
    const unsubscribe = this.hub.subscribe(WATCH_CHANNEL, (payload) => {
      if (!ROW_ID.test(payload)) return;
      pending.add(payload);
      bell.ring();
    });
    // The last version sent per execution, for the most recent ones only: a stream open for days over a busy project
    // would otherwise remember every execution it ever saw (a duplicate event for a long-forgotten one is harmless).
    const sent = new LruCache<string, string>(WATCHED_EXECUTIONS);
    try {
      while (!signal.aborted) {
        await bell.wait();
        const ids = [...pending];
        pending.clear();
        // One statement for all the executions notified since the last read (per MAX_BATCH), sent in that order.
        for (let i = 0; i < ids.length && !signal.aborted; i += MAX_BATCH) {
          const chunk = ids.slice(i, i + MAX_BATCH);
          const rows = new Map((await findExecutionsIn(this.db, req, filters, chunk)).map((r) => [r.id, r]));
          for (const execId of chunk) {
            const row = rows.get(execId);
            if (row === undefined) continue;
            const e = this.diff(sent, row.id, version(row.phase, row.updated_at), () =>
              lazyExecutionEvent(row),
            );
            if (e !== undefined) yield e;
          }
        }
      }
    } finally {
      unsubscribe();
    }
  }
}
