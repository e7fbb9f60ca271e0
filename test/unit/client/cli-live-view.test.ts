// The CLI's live view as pure functions: watch events fold into node rows, rows render as lines (task, phase by
// name, attempt, duration), and a frame redraws the previous one in place with ANSI cursor movement.
import { create } from "@bufbuild/protobuf";
import { durationFromMs, timestampFromMs } from "@bufbuild/protobuf/wkt";
import { describe, expect, it } from "vitest";
import {
  applyEvent,
  formatDuration,
  newViewState,
  plainLine,
  redraw,
  renderView,
} from "../../../client/cli/live-view.js";
import {
  NodeExecution_Phase,
  TaskExecution_Phase,
  WorkflowExecution_Phase,
} from "../../../gen/flyteidl/core/execution_pb.js";
import { type WatchEvent, WatchEventSchema } from "../../../gen/petrel/v1/watch_pb.js";

const T0 = Date.UTC(2026, 0, 1);

function nodeEvent(
  nodeId: string,
  phase: NodeExecution_Phase,
  startedS?: number,
  durationS?: number,
): WatchEvent {
  return create(WatchEventSchema, {
    kind: {
      case: "nodeExecution",
      value: {
        id: { nodeId },
        closure: {
          phase,
          ...(startedS === undefined ? {} : { startedAt: timestampFromMs(T0 + startedS * 1000) }),
          ...(durationS === undefined ? {} : { duration: durationFromMs(durationS * 1000) }),
        },
      },
    },
  });
}

function taskEvent(
  nodeId: string,
  task: string,
  retryAttempt: number,
  phase: TaskExecution_Phase,
): WatchEvent {
  return create(WatchEventSchema, {
    kind: {
      case: "taskExecution",
      value: {
        id: { nodeExecutionId: { nodeId }, taskId: { name: task }, retryAttempt },
        closure: { phase },
      },
    },
  });
}

const execEvent = (phase: WorkflowExecution_Phase, durationS?: number) =>
  create(WatchEventSchema, {
    kind: {
      case: "execution",
      value: {
        closure: {
          phase,
          startedAt: timestampFromMs(T0),
          ...(durationS === undefined ? {} : { duration: durationFromMs(durationS * 1000) }),
        },
      },
    },
  });

describe("applyEvent", () => {
  it("keeps one row per node: task name and attempt from task events, phase from node events", () => {
    const s = newViewState("p/d/x");
    expect(applyEvent(s, nodeEvent("start-node", NodeExecution_Phase.SUCCEEDED))).toBeUndefined();
    expect(applyEvent(s, nodeEvent("n0", NodeExecution_Phase.RUNNING, 1))?.phase).toBe("RUNNING");
    expect(applyEvent(s, taskEvent("n0", "wf.double", 0, TaskExecution_Phase.RUNNING))).toMatchObject({
      task: "wf.double",
      attempt: 1,
      phase: "RUNNING",
    });
    // The same phase and attempt again: nothing new to print.
    expect(applyEvent(s, taskEvent("n0", "wf.double", 0, TaskExecution_Phase.RUNNING))).toBeUndefined();
    expect(applyEvent(s, taskEvent("n0", "wf.double", 1, TaskExecution_Phase.RUNNING))?.attempt).toBe(2);
    const done = applyEvent(s, nodeEvent("n0", NodeExecution_Phase.SUCCEEDED, 1, 2.5));
    expect(done).toMatchObject({ nodeId: "n0", task: "wf.double", attempt: 2, done: true, durationMs: 2500 });
    expect([...s.nodes.keys()]).toEqual(["n0"]);
    applyEvent(s, execEvent(WorkflowExecution_Phase.SUCCEEDED, 3));
    expect(s).toMatchObject({ phase: "SUCCEEDED", done: true, durationMs: 3000 });
  });

  it("prints plain lines with the phase by name", () => {
    const s = newViewState("p/d/x");
    applyEvent(s, taskEvent("n1", "t", 0, TaskExecution_Phase.QUEUED));
    const row = applyEvent(s, nodeEvent("n1", NodeExecution_Phase.FAILED, 0, 0.25));
    expect(row && plainLine(row)).toBe("  node n1: FAILED  task t  attempt 1  250ms");
    const gate = applyEvent(s, nodeEvent("ok", NodeExecution_Phase.RUNNING, 0));
    expect(gate && plainLine(gate)).toBe("  node ok: RUNNING");
  });
});

describe("renderView", () => {
  it("shows each node's task, phase, attempt and duration (running ones count up)", () => {
    const s = newViewState("flytesnacks/development/abc");
    applyEvent(s, execEvent(WorkflowExecution_Phase.RUNNING));
    applyEvent(s, nodeEvent("n0", NodeExecution_Phase.SUCCEEDED, 0, 1.2));
    applyEvent(s, taskEvent("n0", "wf.prep", 0, TaskExecution_Phase.SUCCEEDED));
    applyEvent(s, nodeEvent("gate", NodeExecution_Phase.RUNNING, 2));
    applyEvent(s, nodeEvent("n1", NodeExecution_Phase.RUNNING, 3));
    applyEvent(s, taskEvent("n1", "wf.train", 2, TaskExecution_Phase.RUNNING));
    expect(renderView(s, T0 + 75_000, { columns: 120, rows: 40 })).toEqual([
      "execution flytesnacks/development/abc  RUNNING  1m15s",
      "  n0    wf.prep   SUCCEEDED  attempt 1  1.2s",
      "  gate  -         RUNNING               1m13s",
      "  n1    wf.train  RUNNING    attempt 3  1m12s",
    ]);
  });

  it("fits the terminal: long lines are cut, and finished nodes give way to running ones", () => {
    const s = newViewState("p/d/x");
    for (let i = 0; i < 10; i++) applyEvent(s, nodeEvent(`n${i}`, NodeExecution_Phase.SUCCEEDED, 0, 1));
    applyEvent(s, nodeEvent("late", NodeExecution_Phase.RUNNING, 0));
    applyEvent(s, nodeEvent(`a-node-with-a-very-long-name-${"x".repeat(40)}`, NodeExecution_Phase.QUEUED));
    const lines = renderView(s, T0 + 1000, { columns: 40, rows: 6 });
    expect(lines).toHaveLength(5);
    expect(lines.every((l) => l.length <= 39)).toBe(true);
    expect(lines[1]).toMatch(/^ {2}n9 /);
    expect(lines[2]).toMatch(/^ {2}late /);
    expect(lines[3]).toMatch(/^ {2}a-node-with.*…$/);
    expect(lines[4]).toBe("  … 9 more node(s) finished");
  });
});

describe("redraw", () => {
  it("draws the first frame as is and later ones over the previous lines", () => {
    expect(redraw(["a", "b"], 0)).toBe("\x1b[2Ka\n\x1b[2Kb\n\x1b[J");
    expect(redraw(["a", "b", "c"], 2)).toBe("\x1b[2A\r\x1b[2Ka\n\x1b[2Kb\n\x1b[2Kc\n\x1b[J");
  });

  it("formats durations for people", () => {
    expect([0, 999, 1_000, 12_345, 59_999, 60_000, 125_000, 3_720_000].map(formatDuration)).toEqual([
      "0ms",
      "999ms",
      "1.0s",
      "12.3s",
      "59.9s",
      "1m00s",
      "2m05s",
      "1h02m",
    ]);
  });
});
