// `petrel get …`: lists as a table (default) or JSON, one page or --all.
import { type DescMessage, toJson } from "@bufbuild/protobuf";
import { stringify } from "yaml";
import { type Execution, ExecutionSchema } from "../../gen/flyteidl/admin/execution_pb.js";
import { type LaunchPlan, LaunchPlanSchema } from "../../gen/flyteidl/admin/launch_plan_pb.js";
import { type NodeExecution, NodeExecutionSchema } from "../../gen/flyteidl/admin/node_execution_pb.js";
import { type Project, ProjectSchema } from "../../gen/flyteidl/admin/project_pb.js";
import { type Signal, SignalSchema } from "../../gen/flyteidl/admin/signal_pb.js";
import { type Task, TaskSchema } from "../../gen/flyteidl/admin/task_pb.js";
import { type Workflow, WorkflowSchema } from "../../gen/flyteidl/admin/workflow_pb.js";
import { NodeExecution_Phase, WorkflowExecution_Phase } from "../../gen/flyteidl/core/execution_pb.js";
import type { FriendlyRemote } from "../friendly-remote.js";
import { fromLiteral } from "../type-engine.js";
import { flag, type ParsedArgs, UsageError } from "./args.js";
import { fetchExecution } from "./lookup.js";

interface Listing<T> {
  readonly schema: DescMessage;
  readonly columns: readonly [string, (x: T) => string][];
  fetch(all: boolean, limit: number, filters: string): Promise<T[]>;
}

async function collect<T>(iter: AsyncIterable<T>, all: boolean, limit: number): Promise<T[]> {
  const out: T[] = [];
  for await (const x of iter) {
    out.push(x);
    if (!all && out.length >= limit) break;
  }
  return out;
}

type Fetch<T> = (all: boolean, limit: number, filters: string) => Promise<T[]>;

function listing<T>(
  schema: DescMessage,
  columns: [string, (x: T) => string][],
  fetch: Fetch<T>,
): Listing<never> {
  return { schema, columns, fetch } as unknown as Listing<never>;
}

const idName = (x: { id?: { name: string } | undefined }) => x.id?.name ?? "";
const idVersion = (x: { id?: { version: string } | undefined }) => x.id?.version ?? "";

function listings(r: FriendlyRemote, name: string | undefined): Record<string, Listing<never>> {
  const scope = { project: r.project, domain: r.domain, ...(name === undefined ? {} : { name }) };
  const c = r.client;
  return {
    projects: listing<Project>(
      ProjectSchema,
      [
        ["ID", (p) => p.id],
        ["NAME", (p) => p.name],
      ],
      (all, limit, filters) => collect(c.listProjectsAll({ limit, filters }), all, limit),
    ),
    tasks: listing<Task>(
      TaskSchema,
      [
        ["NAME", idName],
        ["VERSION", idVersion],
      ],
      (all, limit, filters) => collect(c.listTasksAll({ ...scope, limit, filters }), all, limit),
    ),
    workflows: listing<Workflow>(
      WorkflowSchema,
      [
        ["NAME", idName],
        ["VERSION", idVersion],
      ],
      (all, limit, filters) => collect(c.listWorkflowsAll({ ...scope, limit, filters }), all, limit),
    ),
    "launch-plans": listing<LaunchPlan>(
      LaunchPlanSchema,
      [
        ["NAME", idName],
        ["VERSION", idVersion],
        ["STATE", (l) => (l.closure?.state === 1 ? "ACTIVE" : "INACTIVE")],
      ],
      (all, limit, filters) => collect(c.listLaunchPlansAll({ ...scope, limit, filters }), all, limit),
    ),
    executions: listing<Execution>(
      ExecutionSchema,
      [
        ["NAME", idName],
        ["PHASE", (e) => WorkflowExecution_Phase[e.closure?.phase ?? 0] ?? ""],
        ["LAUNCH PLAN", (e) => e.spec?.launchPlan?.name ?? ""],
      ],
      (all, limit, filters) => collect(c.listExecutionsAll({ ...scope, limit, filters }), all, limit),
    ),
  };
}

function perExecution(r: FriendlyRemote, exec: string): Record<string, Listing<never>> {
  const workflowExecutionId = { project: r.project, domain: r.domain, name: exec };
  return {
    "node-executions": listing<NodeExecution>(
      NodeExecutionSchema,
      [
        ["NODE", (n) => n.id?.nodeId ?? ""],
        ["PHASE", (n) => NodeExecution_Phase[n.closure?.phase ?? 0] ?? ""],
      ],
      (all, limit, filters) =>
        collect(r.client.listNodeExecutionsAll({ workflowExecutionId, limit, filters }), all, limit),
    ),
    signals: listing<Signal>(
      SignalSchema,
      [
        ["SIGNAL", (s) => s.id?.signalId ?? ""],
        ["VALUE", (s) => (s.value === undefined ? "" : JSON.stringify(fromLiteral(s.value)))],
      ],
      (all, limit, filters) =>
        collect(r.client.listSignalsAll({ workflowExecutionId, limit, filters }), all, limit),
    ),
  };
}

function table(rows: string[][]): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length))) ?? [];
  return rows
    .map((r) =>
      r
        .map((c, i) => c.padEnd(widths[i] ?? 0))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}

export async function getCommand(
  r: FriendlyRemote,
  words: readonly string[],
  a: ParsedArgs,
  out: (s: string) => void,
): Promise<number> {
  const [, what, arg] = words;
  const all = { ...listings(r, arg), ...perExecution(r, arg ?? "") };
  const listing = what === undefined ? undefined : all[what];
  if (listing === undefined)
    throw new UsageError(
      `get takes ${Object.keys(all).join(", ")}${what === undefined ? "" : `, not "${what}"`}`,
    );
  // A listing under an execution that does not exist is an error, not an empty table.
  if (what === "node-executions" || what === "signals") await fetchExecution(r, arg);
  const items = await listing.fetch(
    flag(a, "--all") === "true",
    Number(flag(a, "--limit") ?? 100),
    flag(a, "--filter") ?? "",
  );
  const format = flag(a, "--output") ?? "table";
  const plain = () => items.map((x) => toJson(listing.schema, x as never));
  if (format === "json") {
    out(JSON.stringify(plain(), null, 2));
  } else if (format === "yaml") {
    out(stringify(plain()).trimEnd());
  } else {
    out(table([listing.columns.map(([h]) => h), ...items.map((x) => listing.columns.map(([, f]) => f(x)))]));
  }
  return 0;
}
