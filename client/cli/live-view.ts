// The progress view of `run --wait` and `watch`, as pure functions: watch events fold into one row per node
// (task name, phase, attempt, duration); rows render as lines, and a frame redraws them in place with ANSI cursor
// movement. progress.ts drives them from the watch stream.
import { durationMs, timestampMs } from "@bufbuild/protobuf/wkt";
import {
  NodeExecution_Phase,
  TaskExecution_Phase,
  WorkflowExecution_Phase,
} from "../../gen/flyteidl/core/execution_pb.js";
import type { WatchEvent } from "../../gen/petrel/v1/watch_pb.js";

export interface NodeRow {
  readonly nodeId: string;
  /** The task of the node's latest attempt; "" for nodes that run no task (gates, branches…). */
  readonly task: string;
  /** The phase by name (SUCCEEDED, not 3). */
  readonly phase: string;
  /** The latest attempt, from 1; 0 before any. */
  readonly attempt: number;
  readonly startedMs: number | undefined;
  /** Set once the node is done. */
  readonly durationMs: number | undefined;
  readonly done: boolean;
}

export interface ViewState {
  readonly execution: string;
  phase: string;
  startedMs: number | undefined;
  durationMs: number | undefined;
  done: boolean;
  readonly nodes: Map<string, NodeRow>;
}

export const workflowPhaseName = (p: number) => WorkflowExecution_Phase[p] ?? String(p);
export const nodePhaseName = (p: number) => NodeExecution_Phase[p] ?? String(p);
export const taskPhaseName = (p: number) => TaskExecution_Phase[p] ?? String(p);

const DONE = new Set(["SUCCEEDED", "FAILED", "ABORTED", "SKIPPED", "TIMED_OUT", "RECOVERED"]);
const HIDDEN = new Set(["start-node", "end-node"]);

export function newViewState(execution: string): ViewState {
  return {
    execution,
    phase: "UNDEFINED",
    startedMs: undefined,
    durationMs: undefined,
    done: false,
    nodes: new Map(),
  };
}

const ms = (t: Parameters<typeof timestampMs>[0] | undefined) =>
  t === undefined ? undefined : timestampMs(t);

/** Folds one watch event into the state; returns the node row when its phase or attempt changed. */
export function applyEvent(s: ViewState, e: WatchEvent): NodeRow | undefined {
  if (e.kind.case === "execution") {
    const c = e.kind.value.closure;
    s.phase = workflowPhaseName(c?.phase ?? 0);
    s.done = DONE.has(s.phase);
    s.startedMs = ms(c?.startedAt) ?? s.startedMs;
    s.durationMs = s.done && c?.duration !== undefined ? durationMs(c.duration) : undefined;
    return undefined;
  }
  if (e.kind.case === undefined) return undefined;
  const nodeId =
    e.kind.case === "nodeExecution" ? e.kind.value.id?.nodeId : e.kind.value.id?.nodeExecutionId?.nodeId;
  if (nodeId === undefined || HIDDEN.has(nodeId)) return undefined;
  const before = s.nodes.get(nodeId);
  const c = e.kind.value.closure;
  let row: NodeRow;
  if (e.kind.case === "nodeExecution") {
    const phase = nodePhaseName(c?.phase ?? 0);
    const done = DONE.has(phase);
    row = {
      nodeId,
      task: before?.task ?? "",
      attempt: before?.attempt ?? 0,
      phase,
      done,
      startedMs: ms(c?.startedAt) ?? before?.startedMs,
      durationMs: done && c?.duration !== undefined ? durationMs(c.duration) : undefined,
    };
  } else {
    const id = e.kind.value.id;
    row = {
      nodeId,
      task: id?.taskId?.name ?? before?.task ?? "",
      attempt: Math.max(before?.attempt ?? 0, (id?.retryAttempt ?? 0) + 1),
      // The node's own events carry its phase; a task event only names one for a node not seen yet.
      phase: before?.phase ?? taskPhaseName(c?.phase ?? 0),
      done: before?.done ?? false,
      startedMs: before?.startedMs ?? ms(c?.startedAt),
      durationMs: before?.durationMs,
    };
  }
  s.nodes.set(nodeId, row);
  return before?.phase === row.phase && before.attempt === row.attempt ? undefined : row;
}

/** 850ms, 12.3s, 2m05s, 1h02m. */
export function formatDuration(msTotal: number): string {
  if (msTotal < 1_000) return `${Math.max(0, Math.round(msTotal))}ms`;
  if (msTotal < 60_000) return `${(Math.floor(msTotal / 100) / 10).toFixed(1)}s`;
  const s = Math.floor(msTotal / 1_000);
  if (s < 3_600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(s / 3_600)}h${String(Math.floor(s / 60) % 60).padStart(2, "0")}m`;
}

const elapsed = (r: { startedMs: number | undefined; durationMs: number | undefined }, now: number) =>
  r.durationMs !== undefined
    ? formatDuration(r.durationMs)
    : r.startedMs === undefined
      ? ""
      : formatDuration(now - r.startedMs);

/** The line printed for a changed node when stdout is not a terminal. */
export function plainLine(r: NodeRow): string {
  const parts = [`  node ${r.nodeId}: ${r.phase}`];
  if (r.task !== "") parts.push(`task ${r.task}`);
  if (r.attempt > 0) parts.push(`attempt ${r.attempt}`);
  if (r.done && r.durationMs !== undefined) parts.push(formatDuration(r.durationMs));
  return parts.join("  ");
}

/** Rows to show in at most `max` lines: all unfinished and failed ones first, then the latest finished. */
function visibleRows(rows: readonly NodeRow[], max: number): { shown: NodeRow[]; hidden: number } {
  if (rows.length <= max) return { shown: [...rows], hidden: 0 };
  const quiet = (r: NodeRow) => r.done && (r.phase === "SUCCEEDED" || r.phase === "SKIPPED");
  const keep = new Set(rows.filter((r) => !quiet(r)).slice(-max));
  for (const r of [...rows].reverse()) {
    if (keep.size >= max) break;
    keep.add(r);
  }
  const shown = rows.filter((r) => keep.has(r));
  return { shown, hidden: rows.length - shown.length };
}

/**
 * The live view as lines: the execution, then one line per node (task name, phase, attempt, duration — running
 * nodes count up from `now`), cut to `columns` characters and `rows` lines so that redrawing in place works.
 */
export function renderView(s: ViewState, now: number, size: { columns: number; rows: number }): string[] {
  const rows = [...s.nodes.values()];
  const { shown, hidden } = visibleRows(rows, Math.max(1, size.rows - 3));
  const w = (f: (r: NodeRow) => string) => Math.max(0, ...shown.map((r) => f(r).length));
  const wNode = w((r) => r.nodeId);
  const wTask = w((r) => r.task || "-");
  const wPhase = w((r) => r.phase);
  const lines = [`execution ${s.execution}  ${s.phase}  ${elapsed(s, now)}`.trimEnd()];
  for (const r of shown)
    lines.push(
      [
        `  ${r.nodeId.padEnd(wNode)}`,
        (r.task || "-").padEnd(wTask),
        r.phase.padEnd(wPhase),
        r.attempt > 0 ? `attempt ${r.attempt}` : "         ",
        elapsed(r, now),
      ]
        .join("  ")
        .trimEnd(),
    );
  if (hidden > 0) lines.push(`  … ${hidden} more node(s) finished`);
  const cut = Math.max(1, size.columns - 1);
  return lines.map((l) => (l.length > cut ? `${l.slice(0, cut - 1)}…` : l));
}

/**
 * The bytes that replace the previous frame (`previousLines` lines, 0 for the first) with `lines`: move the cursor
 * up to the frame's first line, rewrite each line (clearing what was there), and clear anything below.
 */
export function redraw(lines: readonly string[], previousLines: number): string {
  const up = previousLines > 0 ? `\x1b[${previousLines}A\r` : "";
  return `${up}${lines.map((l) => `\x1b[2K${l}\n`).join("")}\x1b[J`;
}
