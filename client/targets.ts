// What `FriendlyRemote.execute` runs: a DSL entity (registered first), a fetched task, workflow or launch plan,
// or a reference by name — resolved to the id to launch, the input types to check and the required inputs.
import type { LaunchPlan } from "../gen/flyteidl/admin/launch_plan_pb.js";
import type { Task } from "../gen/flyteidl/admin/task_pb.js";
import type { Workflow } from "../gen/flyteidl/admin/workflow_pb.js";
import { type Identifier, ResourceType } from "../gen/flyteidl/core/identifier_pb.js";
import type { LiteralType } from "../gen/flyteidl/core/types_pb.js";
import { type Entity, isEntity, type Registration } from "./dsl/serialize.js";

export type Target =
  | { readonly launchPlan: string; readonly version?: string }
  /** The launch plan named `launchPlan` of this workflow version (latest when not given). */
  | { readonly workflow: string; readonly version?: string; readonly launchPlan: string }
  | { readonly workflow: string; readonly version?: string }
  | { readonly task: string; readonly version?: string };

/** What `execute` runs: a DSL entity, a fetched entity, or a reference by name. */
export type ExecuteTarget = Target | Entity | Task | Workflow | LaunchPlan;

export interface Resolved {
  readonly id: Identifier;
  readonly types: Record<string, LiteralType | undefined>;
  readonly required: ReadonlySet<string>;
  /** Function tasks a DSL target needs served. */
  readonly functions: ReadonlyMap<string, unknown>;
}

export interface Resolver {
  id(resourceType: ResourceType, name: string, version: string): Identifier;
  fetchTask(name: string, version?: string): Promise<Task>;
  fetchLaunchPlan(name: string, version?: string): Promise<LaunchPlan>;
  fetchWorkflowLaunchPlan(
    workflow: string,
    version: string | undefined,
    launchPlan: string,
  ): Promise<LaunchPlan>;
  registerAll(entities: readonly Entity[], opts: { version?: string }): Promise<Registration>;
}

const versioned = (version: string | undefined) => (version === undefined ? {} : { version });

export async function resolveTarget(r: Resolver, target: ExecuteTarget, version?: string): Promise<Resolved> {
  if (isEntity(target)) {
    const reg = await r.registerAll([target], versioned(version));
    if (target.kind !== "task")
      return {
        ...(await resolveTarget(r, { launchPlan: target.name, version: reg.version })),
        functions: reg.functions,
      };
    return {
      id: r.id(ResourceType.TASK, target.name, reg.version),
      types: Object.fromEntries(Object.entries(target.inputs).map(([k, t]) => [k, t.literalType])),
      required: new Set(Object.keys(target.inputs)),
      functions: reg.functions,
    };
  }
  if ("$typeName" in target) {
    const name = target.id?.name ?? "";
    const v = versioned(target.id?.version);
    // A fetched workflow runs through its default launch plan (same name and version).
    return resolveTarget(
      r,
      target.$typeName === "flyteidl.admin.Task" ? { task: name, ...v } : { launchPlan: name, ...v },
    );
  }
  if ("task" in target) {
    const task = await r.fetchTask(target.task, target.version);
    const vars = task.closure?.compiledTask?.template?.interface?.inputs?.variables ?? {};
    return {
      id: task.id ?? r.id(ResourceType.TASK, target.task, ""),
      types: Object.fromEntries(Object.entries(vars).map(([k, v]) => [k, v.type])),
      required: new Set(Object.keys(vars)),
      functions: new Map(),
    };
  }
  const name = "launchPlan" in target ? target.launchPlan : target.workflow;
  const lp =
    "workflow" in target && "launchPlan" in target
      ? await r.fetchWorkflowLaunchPlan(target.workflow, target.version, target.launchPlan)
      : await r.fetchLaunchPlan(name, target.version);
  const params = lp.closure?.expectedInputs?.parameters ?? {};
  return {
    id: lp.id ?? r.id(ResourceType.LAUNCH_PLAN, name, ""),
    types: Object.fromEntries(Object.entries(params).map(([k, p]) => [k, p.var?.type])),
    required: new Set(
      Object.entries(params).flatMap(([k, p]) =>
        p.behavior.case === "required" && p.behavior.value ? [k] : [],
      ),
    ),
    functions: new Map(),
  };
}
