// Phases of workflow, node and task executions: their names, a colour per kind of state, and a badge.
import {
  NodeExecution_Phase,
  TaskExecution_Phase,
  WorkflowExecution_Phase,
} from "../../../gen/flyteidl/core/execution_pb.js";

export type PhaseKind = "workflow" | "node" | "task";

/** What a phase means, whatever its kind: the colour follows this. */
export type PhaseCategory =
  | "pending"
  | "running"
  | "succeeded"
  | "failing"
  | "failed"
  | "aborted"
  | "skipped";

const ENUMS: Record<PhaseKind, Record<number, string>> = {
  workflow: WorkflowExecution_Phase,
  node: NodeExecution_Phase,
  task: TaskExecution_Phase,
};

const CATEGORIES: Record<string, PhaseCategory> = {
  UNDEFINED: "pending",
  QUEUED: "pending",
  INITIALIZING: "pending",
  WAITING_FOR_RESOURCES: "pending",
  RUNNING: "running",
  DYNAMIC_RUNNING: "running",
  SUCCEEDING: "running",
  SUCCEEDED: "succeeded",
  RECOVERED: "succeeded",
  FAILING: "failing",
  RETRYABLE_FAILED: "failing",
  FAILED: "failed",
  TIMED_OUT: "failed",
  ABORTING: "aborted",
  ABORTED: "aborted",
  SKIPPED: "skipped",
};

/** Background colours, dark enough for white text (contrast ≥ 4.5:1). */
const COLORS: Record<PhaseCategory, string> = {
  pending: "#4b5563",
  running: "#1d4ed8",
  succeeded: "#15803d",
  failing: "#c2410c",
  failed: "#b91c1c",
  aborted: "#6d28d9",
  skipped: "#57534e",
};

/** The enum name of a phase ("SUCCEEDED"), or "UNKNOWN(n)" for a number this console does not know. */
export function phaseName(kind: PhaseKind, phase: number): string {
  return ENUMS[kind][phase] ?? `UNKNOWN(${phase})`;
}

export function phaseCategory(kind: PhaseKind, phase: number): PhaseCategory {
  return CATEGORIES[phaseName(kind, phase)] ?? "pending";
}

export function phaseColor(kind: PhaseKind, phase: number): string {
  return COLORS[phaseCategory(kind, phase)];
}

const TERMINAL_WORKFLOW = new Set<number>([
  WorkflowExecution_Phase.SUCCEEDED,
  WorkflowExecution_Phase.FAILED,
  WorkflowExecution_Phase.ABORTED,
  WorkflowExecution_Phase.TIMED_OUT,
]);

/** Whether a workflow execution has finished (nothing left to terminate). */
export function isTerminalWorkflowPhase(phase: number): boolean {
  return TERMINAL_WORKFLOW.has(phase);
}

/** A phase name on its colour, e.g. RUNNING in blue. */
export function PhaseBadge({ kind, phase }: { kind: PhaseKind; phase: number }) {
  const name = phaseName(kind, phase);
  return (
    <span className="phase-badge" style={{ background: phaseColor(kind, phase) }} data-phase={name}>
      {name.replaceAll("_", " ")}
    </span>
  );
}
