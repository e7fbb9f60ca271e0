// Progress callbacks over the watch stream, as the C# engine's IProgressService splits them: the run (execution
// phase changes) apart from its nodes and task attempts (trace progress). Each callback fires once per change.
import type { Execution } from "../gen/flyteidl/admin/execution_pb.js";
import type { NodeExecution } from "../gen/flyteidl/admin/node_execution_pb.js";
import type { TaskExecution } from "../gen/flyteidl/admin/task_execution_pb.js";
import {
  NodeExecution_Phase as NodePhase,
  TaskExecution_Phase as TaskPhase,
  WorkflowExecution_Phase as WorkflowPhase,
} from "../gen/flyteidl/core/execution_pb.js";
import type { WatchEvent } from "../gen/petrel/v1/watch_pb.js";

/** The execution changed phase. */
export interface RunProgress {
  readonly phase: WorkflowPhase;
  /** The phase by name, e.g. "RUNNING". */
  readonly phaseName: string;
  readonly execution: Execution;
}

/** A node changed phase. */
export interface NodeProgress {
  /** The node execution's unique id (a child's is `<parent>-<attempt>-<spec node id>`). */
  readonly nodeId: string;
  /** The node's id in the workflow spec (the same as `nodeId` at the top level). */
  readonly specNodeId: string;
  /** The parent node's unique id for nodes under a branch, sub-workflow or array; undefined at the top level. */
  readonly parent: string | undefined;
  readonly phase: NodePhase;
  readonly phaseName: string;
  readonly node: NodeExecution;
}

/** A task attempt changed phase. */
export interface TaskProgress {
  readonly nodeId: string;
  /** The task's name (its id's name). */
  readonly taskName: string;
  /** 0 for the first attempt, 1 for the first retry… */
  readonly attempt: number;
  readonly phase: TaskPhase;
  readonly phaseName: string;
  readonly task: TaskExecution;
}

export interface ProgressCallbacks {
  /** Execution phase changes (the run), starting with the phase it is in when watching starts (UNDEFINED is skipped). */
  readonly onRun?: (p: RunProgress) => void;
  /** Node phase changes, with the node's parent when it is nested. */
  readonly onNode?: (p: NodeProgress) => void;
  /** Task attempt phase changes. */
  readonly onTask?: (p: TaskProgress) => void;
}

export const hasProgressCallbacks = (c: ProgressCallbacks): boolean =>
  c.onRun !== undefined || c.onNode !== undefined || c.onTask !== undefined;

/** The parent's unique id of a nested node, from Flyte's `<parent>-<attempt>-<spec node id>` scheme. */
export function parentOf(node: NodeExecution): string | undefined {
  const id = node.id?.nodeId ?? "";
  const spec = node.metadata?.specNodeId ?? "";
  if (spec === "" || spec === id || !id.endsWith(`-${spec}`)) return undefined;
  const m = /^(.+)-\d+$/.exec(id.slice(0, id.length - spec.length - 1));
  return m?.[1];
}

/** Turns watch events into progress callbacks, calling each only when a phase actually changes. */
export class ProgressTracker {
  private run: WorkflowPhase | undefined;
  private readonly nodes = new Map<string, NodePhase>();
  private readonly tasks = new Map<string, TaskPhase>();

  constructor(private readonly callbacks: ProgressCallbacks) {}

  execution(e: Execution): void {
    const phase = e.closure?.phase ?? WorkflowPhase.UNDEFINED;
    // UNDEFINED: created, not queued yet — not a phase to report.
    if (phase === this.run || phase === WorkflowPhase.UNDEFINED) return;
    this.run = phase;
    this.callbacks.onRun?.({ phase, phaseName: WorkflowPhase[phase] ?? String(phase), execution: e });
  }

  event(e: WatchEvent): void {
    const k = e.kind;
    if (k.case === "execution") this.execution(k.value);
    else if (k.case === "nodeExecution") this.node(k.value);
    else if (k.case === "taskExecution") this.task(k.value);
  }

  private node(n: NodeExecution): void {
    const nodeId = n.id?.nodeId ?? "";
    const phase = n.closure?.phase ?? NodePhase.UNDEFINED;
    if (this.nodes.get(nodeId) === phase || phase === NodePhase.UNDEFINED) return;
    this.nodes.set(nodeId, phase);
    this.callbacks.onNode?.({
      nodeId,
      specNodeId: n.metadata?.specNodeId || nodeId,
      parent: parentOf(n),
      phase,
      phaseName: NodePhase[phase] ?? String(phase),
      node: n,
    });
  }

  private task(t: TaskExecution): void {
    const nodeId = t.id?.nodeExecutionId?.nodeId ?? "";
    const attempt = t.id?.retryAttempt ?? 0;
    const key = `${nodeId}#${attempt}`;
    const phase = t.closure?.phase ?? TaskPhase.UNDEFINED;
    if (this.tasks.get(key) === phase || phase === TaskPhase.UNDEFINED) return;
    this.tasks.set(key, phase);
    this.callbacks.onTask?.({
      nodeId,
      taskName: t.id?.taskId?.name ?? "",
      attempt,
      phase,
      phaseName: TaskPhase[phase] ?? String(phase),
      task: t,
    });
  }
}
