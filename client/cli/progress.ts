// `run … --wait` and `watch EXECUTION`: follow an execution on the watch stream — a live view redrawn in place on a
// terminal, one plain line per node change otherwise, or (watch -o json) one JSON event per line.
import { toJson } from "@bufbuild/protobuf";
import type { WorkflowExecutionIdentifier } from "../../gen/flyteidl/core/identifier_pb.js";
import { type WatchEvent, WatchEventSchema } from "../../gen/petrel/v1/watch_pb.js";
import type { FriendlyRemote } from "../friendly-remote.js";
import type { SynchronousClient } from "../synchronous-client.js";
import type { Target } from "../targets.js";
import { flag, type ParsedArgs, UsageError } from "./args.js";
import {
  applyEvent,
  type NodeRow,
  newViewState,
  plainLine,
  redraw,
  renderView,
  type ViewState,
  workflowPhaseName,
} from "./live-view.js";
import { executionPath, fetchExecution, printConsoleUrl } from "./lookup.js";

/** Where a live view is drawn: stdout when it is a terminal. */
export interface Terminal {
  write(s: string): void;
  readonly columns: number;
  readonly rows: number;
}

const REDRAW_MS = 200;
const PLAIN_SETTLE_MS = 100;

/** Follows the execution until the watch stream ends (the execution finished). */
export async function followExecution(
  client: SynchronousClient,
  id: WorkflowExecutionIdentifier | undefined,
  out: (s: string) => void,
  term: Terminal | undefined,
): Promise<void> {
  const state = newViewState(executionPath(id));
  const events = client.watchExecution({ id });
  if (term === undefined) return printChanges(state, events, out);
  let drawn = 0;
  const draw = () => {
    if (state.phase === "UNDEFINED" && state.nodes.size === 0) return; // nothing heard yet
    const lines = renderView(state, Date.now(), { columns: term.columns, rows: term.rows });
    term.write(redraw(lines, drawn));
    drawn = lines.length;
  };
  const timer = setInterval(draw, REDRAW_MS);
  try {
    for await (const e of events) applyEvent(state, e);
  } finally {
    clearInterval(timer);
    draw();
  }
}

/**
 * Plain lines: one per node change. Changes are held for a moment so that a node's own event and its task
 * attempt's (which names the task) print as one line, and the current state a watch starts with is one line a node.
 */
async function printChanges(
  state: ViewState,
  events: AsyncIterable<WatchEvent>,
  out: (s: string) => void,
): Promise<void> {
  const pending = new Map<string, NodeRow>();
  let timer: NodeJS.Timeout | undefined;
  const flush = () => {
    timer = undefined;
    for (const row of pending.values()) out(plainLine(state.nodes.get(row.nodeId) ?? row));
    pending.clear();
  };
  try {
    for await (const e of events) {
      const row = applyEvent(state, e);
      if (row === undefined) continue;
      pending.set(row.nodeId, row);
      timer ??= setTimeout(flush, PLAIN_SETTLE_MS);
    }
  } finally {
    clearTimeout(timer);
    flush();
  }
}

function target(kind: string | undefined, name: string | undefined, version: string | undefined): Target {
  if (name === undefined) throw new UsageError("run needs a name (see petrel run --help)");
  const v = version === undefined ? {} : { version };
  if (kind === "launch-plan") return { launchPlan: name, ...v };
  if (kind === "workflow") return { workflow: name, ...v };
  if (kind === "task") return { task: name, ...v };
  throw new UsageError(`run takes launch-plan, workflow or task, not "${kind ?? ""}"`);
}

const json = (v: unknown) => JSON.stringify(v, (_k, x) => (typeof x === "bigint" ? x.toString() : x));

/** `run launch-plan|workflow|task NAME [--version V] [--input k=v ...] [--wait]`. */
export async function runCommand(
  remote: FriendlyRemote,
  a: ParsedArgs,
  inputs: Record<string, unknown>,
  out: (s: string) => void,
  term: Terminal | undefined,
): Promise<number> {
  const [, kind, name] = a.words;
  const exe = await remote.execute(target(kind, name, flag(a, "--version")), inputs);
  out(`execution ${exe.name} created`);
  printConsoleUrl(exe, out);
  if (flag(a, "--wait") !== "true") return 0;
  await followExecution(remote.client, exe.execution.id, out, term);
  await exe.sync();
  out(`${exe.name}: ${workflowPhaseName(exe.phase)}`);
  if (workflowPhaseName(exe.phase) !== "SUCCEEDED") {
    out(`error: ${exe.error ?? "unknown"}`);
    return 1;
  }
  out(json(await exe.outputs()));
  return 0;
}

/** `watch EXECUTION [-o json]`: follows it until it finishes, then prints its phase (JSON: the events only). */
export async function watchCommand(
  remote: FriendlyRemote,
  a: ParsedArgs,
  out: (s: string) => void,
  term: Terminal | undefined,
): Promise<number> {
  const exe = await fetchExecution(remote, a.words[1]);
  if (flag(a, "--output") === "json") {
    for await (const e of remote.client.watchExecution({ id: exe.execution.id }))
      out(JSON.stringify(toJson(WatchEventSchema, e)));
    return 0;
  }
  await followExecution(remote.client, exe.execution.id, out, term);
  await exe.sync();
  out(`${exe.name}: ${workflowPhaseName(exe.phase)}${exe.error === undefined ? "" : `: ${exe.error}`}`);
  return 0;
}
