// WatchExecution / WatchExecutions: the current state, then every committed change, pushed as it happens.
// Changes are found by comparing (phase, updated_at) with what this stream already sent.
import { create } from "@bufbuild/protobuf";
import type { Knex } from "knex";
import type { WorkflowExecutionIdentifier } from "../../gen/flyteidl/core/identifier_pb.js";
import { type WatchEvent, WatchEventSchema } from "../../gen/petrel/v1/watch_pb.js";
import type { NotificationHub } from "../db/notifications.js";
import { missingField } from "../errors.js";
import { EXECUTION_LIST, type ExecutionRow } from "../repositories/execution-repo.js";
import { type ExecutionState, loadExecutionState } from "../repositories/execution-state-repo.js";
import { applyFilters, filterScope } from "../repositories/list-page.js";
import { rowToExecution, TERMINAL_WORKFLOW_PHASES, workflowPhase } from "../transformers/execution.js";
import { toNodeExecution, toTaskExecution } from "../transformers/node-execution.js";
import { parseFilters } from "../validation/filter-grammar.js";
import { executionNotFound, validateExecutionId } from "./execution-manager.js";
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

export class WatchManager {
  constructor(
    private readonly db: Knex,
    private readonly hub: NotificationHub,
  ) {}

  async *watchExecution(
    id: WorkflowExecutionIdentifier | undefined,
    signal: AbortSignal,
  ): AsyncGenerator<WatchEvent> {
    const key = validateExecutionId(id);
    const bell = new Doorbell(signal);
    // Subscribed before the first read, so no change committed after that read goes unnoticed; notifications that
    // arrive while the row id is still unknown are kept until it is.
    let rowId: string | undefined;
    const early = new Set<string>();
    const unsubscribe = this.hub.subscribe(WATCH_CHANNEL, (payload) => {
      if (rowId === undefined) early.add(payload);
      else if (payload === rowId) bell.ring();
    });
    const sent = new Map<string, string>();
    try {
      let state = await loadExecutionState(this.db, key);
      if (state === undefined) throw executionNotFound(key);
      rowId = state.exec.id;
      if (early.has(rowId)) bell.ring();
      early.clear();
      while (state !== undefined) {
        yield* this.changes(state, sent);
        if (TERMINAL_WORKFLOW_PHASES.has(workflowPhase(state.exec.phase))) return;
        await bell.wait();
        if (signal.aborted) return;
        // Every wake-up reads the current state afresh (one statement).
        state = await loadExecutionState(this.db, { id: rowId });
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
      create(WatchEventSchema, { kind: { case: "execution", value: rowToExecution(exec) } }),
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
    sent: Map<string, string>,
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
    const pending: string[] = [];
    const bell = new Doorbell(signal);
    const unsubscribe = this.hub.subscribe(WATCH_CHANNEL, (payload) => {
      pending.push(payload);
      bell.ring();
    });
    const sent = new Map<string, string>();
    try {
      while (!signal.aborted) {
        await bell.wait();
        for (const execId of pending.splice(0)) {
          const qb = this.db("executions as e")
            .select("e.*")
            .where({ "e.id": execId, "e.execution_project": req.project, "e.execution_domain": req.domain });
          applyFilters(qb, filters, EXECUTION_LIST);
          const row = (await qb.first()) as ExecutionRow | undefined;
          if (row === undefined) continue;
          const e = this.diff(sent, row.id, version(row.phase, row.updated_at), () =>
            create(WatchEventSchema, { kind: { case: "execution", value: rowToExecution(row) } }),
          );
          if (e !== undefined) yield e;
        }
      }
    } finally {
      unsubscribe();
    }
  }
}
