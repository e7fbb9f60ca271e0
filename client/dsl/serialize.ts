// From DSL entities to registration requests: everything an entity needs (tasks, sub-workflows, launch plans and
// their workflows) in dependency order, ids stamped with project, domain and a version derived from the content.
import { createHash } from "node:crypto";
import { clone, create, toBinary } from "@bufbuild/protobuf";
import {
  type LaunchPlanCreateRequest,
  LaunchPlanCreateRequestSchema,
} from "../../gen/flyteidl/admin/launch_plan_pb.js";
import { type TaskCreateRequest, TaskCreateRequestSchema } from "../../gen/flyteidl/admin/task_pb.js";
import {
  type WorkflowCreateRequest,
  WorkflowCreateRequestSchema,
} from "../../gen/flyteidl/admin/workflow_pb.js";
import { type Identifier, ResourceType } from "../../gen/flyteidl/core/identifier_pb.js";
import {
  type Node,
  type WorkflowTemplate,
  WorkflowTemplateSchema,
} from "../../gen/flyteidl/core/workflow_pb.js";
import { blobsOf, isMultipart, launchPlanLiterals } from "../blob-literals.js";
import { DslError } from "./graph.js";
import { entityId, type SerializeContext, type TaskContext, type TaskDefinition } from "./tasks.js";
import type { LaunchPlanDefinition, WorkflowDefinition } from "./workflows.js";

/** Anything registrable: a task, workflow or launch plan of the DSL, whatever its types. */
export type Entity = TaskDefinition | WorkflowDefinition | LaunchPlanDefinition;

export function isEntity(x: unknown): x is Entity {
  if (typeof x !== "function") return false;
  const kind = (x as { kind?: unknown }).kind;
  return kind === "task" || kind === "workflow" || kind === "launchPlan";
}

export type Step =
  | { readonly task: TaskCreateRequest }
  | { readonly workflow: WorkflowCreateRequest }
  | { readonly launchPlan: LaunchPlanCreateRequest };

export interface Registration {
  readonly version: string;
  /** Create requests in dependency order (a launch plan before the workflows that call it). */
  readonly steps: Step[];
  readonly tasks: TaskCreateRequest[];
  readonly workflows: WorkflowCreateRequest[];
  readonly launchPlans: LaunchPlanCreateRequest[];
  /** Function tasks by name, for a worker to serve. */
  readonly functions: Map<string, (inputs: never, ctx: TaskContext) => unknown>;
}

function checkUnique(seen: Map<string, Entity>, e: Entity): boolean {
  const key = `${e.kind}:${e.name}`;
  const existing = seen.get(key);
  if (existing !== undefined && existing !== e)
    throw new DslError(
      `two different ${e.kind === "launchPlan" ? "launch plan" : e.kind}s are named ${e.name}`,
    );
  if (existing !== undefined) return false;
  seen.set(key, e);
  return true;
}

/** Every entity `e` needs, then `e`, each once: the order they must be created in. */
function visit(e: Entity, seen: Map<string, Entity>, order: Entity[]): void {
  if (!checkUnique(seen, e)) return;
  if (e.kind === "launchPlan") visit(e.workflow, seen, order);
  if (e.kind === "workflow") for (const u of e.uses) visit(u as Entity, seen, order);
  order.push(e);
}

function stampId(id: Identifier | undefined, ctx: SerializeContext): void {
  if (id === undefined || id.project !== "") return;
  id.project = ctx.project;
  id.domain = ctx.domain;
  id.version = ctx.version;
}

function stampNode(n: Node, ctx: SerializeContext): void {
  const t = n.target;
  if (t.case === "taskNode" && t.value.reference.case === "referenceId")
    stampId(t.value.reference.value, ctx);
  if (t.case === "workflowNode") stampId(t.value.reference.value, ctx);
  if (t.case === "arrayNode" && t.value.node !== undefined) stampNode(t.value.node, ctx);
  if (t.case === "branchNode" && t.value.ifElse !== undefined) {
    const ie = t.value.ifElse;
    for (const c of [ie.case, ...ie.other]) if (c?.thenNode !== undefined) stampNode(c.thenNode, ctx);
    if (ie.default.case === "elseNode") stampNode(ie.default.value, ctx);
  }
}

function stampedTemplate(wf: WorkflowDefinition, ctx: SerializeContext): WorkflowTemplate {
  const tpl = clone(WorkflowTemplateSchema, wf.template(ctx));
  for (const n of tpl.nodes) stampNode(n, ctx);
  return tpl;
}

/** Workflows a workflow embeds as sub-workflows, transitively. */
function subWorkflows(wf: WorkflowDefinition, seen = new Map<string, Entity>()): WorkflowDefinition[] {
  for (const u of wf.uses) {
    const e = u as Entity;
    if (e.kind === "workflow" && checkUnique(seen, e)) subWorkflows(e, seen);
  }
  return [...seen.values()].filter((x): x is WorkflowDefinition => x.kind === "workflow");
}

/** `explicit`: names of launch plans defined in this registration (they replace a workflow's default one). */
function step(e: Entity, ctx: SerializeContext, explicit: ReadonlySet<string>): Step[] {
  if (e.kind === "task")
    return [
      {
        task: create(TaskCreateRequestSchema, {
          id: entityId(ResourceType.TASK, e.name, ctx),
          spec: { template: e.template(ctx) },
        }),
      },
    ];
  if (e.kind === "launchPlan") return [{ launchPlan: e.request(ctx) }];
  const id = entityId(ResourceType.WORKFLOW, e.name, ctx);
  return [
    {
      workflow: create(WorkflowCreateRequestSchema, {
        id,
        spec: {
          template: stampedTemplate(e, ctx),
          subWorkflows: subWorkflows(e).map((x) => stampedTemplate(x, ctx)),
        },
      }),
    },
    // The default launch plan: same name and version, as flytekit registers it — unless a launch plan of that
    // name is defined here too (it takes the default's place).
    ...(explicit.has(e.name)
      ? []
      : [
          {
            launchPlan: create(LaunchPlanCreateRequestSchema, {
              id: entityId(ResourceType.LAUNCH_PLAN, e.name, ctx),
              spec: { workflowId: id },
            }),
          },
        ]),
  ];
}

/** A copy of a launch plan step (its literals are shared with the definition) with blob URIs rewritten. */
function rewriteBlobs(
  x: { readonly launchPlan: LaunchPlanCreateRequest },
  rewrite: (uri: string, multipart: boolean) => string,
): Step {
  const launchPlan = clone(LaunchPlanCreateRequestSchema, x.launchPlan);
  for (const [k, lit] of Object.entries(launchPlanLiterals(launchPlan)))
    for (const { blob } of blobsOf(lit, k)) blob.uri = rewrite(blob.uri, isMultipart(blob));
  return { launchPlan };
}

/** A version from the content: the same definitions always give the same version. */
function contentVersion(steps: readonly Step[]): string {
  const h = createHash("sha256");
  for (const x of steps) {
    if ("task" in x) h.update(toBinary(TaskCreateRequestSchema, x.task));
    else if ("workflow" in x) h.update(toBinary(WorkflowCreateRequestSchema, x.workflow));
    else h.update(toBinary(LaunchPlanCreateRequestSchema, x.launchPlan));
  }
  return h.digest("base64url").slice(0, 22);
}

/**
 * Everything `entities` need, ready to create in order, under one version. `blobUri` replaces the URIs of the
 * launch plans' file and directory inputs (local paths, by their uploads) before the version is derived.
 */
export function serialize(
  entities: readonly Entity[],
  where: {
    project: string;
    domain: string;
    version?: string;
    blobUri?: (uri: string, multipart: boolean) => string;
  },
): Registration {
  const order: Entity[] = [];
  const seen = new Map<string, Entity>();
  for (const e of entities) visit(e, seen, order);
  const explicit = new Set(order.flatMap((e) => (e.kind === "launchPlan" ? [e.name] : [])));
  const rewrite = where.blobUri;
  const at = (version: string) => {
    const steps = order.flatMap((e) =>
      step(e, { project: where.project, domain: where.domain, version }, explicit),
    );
    return rewrite === undefined
      ? steps
      : steps.map((x) => ("launchPlan" in x ? rewriteBlobs(x, rewrite) : x));
  };
  const version = where.version ?? contentVersion(at(""));
  const steps = at(version);
  const functions: Registration["functions"] = new Map();
  for (const e of order) if (e.kind === "task" && e.fn !== undefined) functions.set(e.name, e.fn);
  return {
    version,
    steps,
    tasks: steps.flatMap((x) => ("task" in x ? [x.task] : [])),
    workflows: steps.flatMap((x) => ("workflow" in x ? [x.workflow] : [])),
    launchPlans: steps.flatMap((x) => ("launchPlan" in x ? [x.launchPlan] : [])),
    functions,
  };
}
