// Workflow and launch-plan definitions. A workflow body runs once, at definition, with references for its inputs;
// the task, workflow and launch-plan calls it makes become the nodes of a Flyte WorkflowTemplate.
import { create } from "@bufbuild/protobuf";
import type { LaunchPlanCreateRequest } from "../../gen/flyteidl/admin/launch_plan_pb.js";
import { LaunchPlanCreateRequestSchema } from "../../gen/flyteidl/admin/launch_plan_pb.js";
import { FixedRateUnit } from "../../gen/flyteidl/admin/schedule_pb.js";
import { WorkflowExecution_Phase as Phase } from "../../gen/flyteidl/core/execution_pb.js";
import { ResourceType } from "../../gen/flyteidl/core/identifier_pb.js";
import {
  WorkflowMetadata_OnFailurePolicy as OnFailure,
  type WorkflowTemplate,
  WorkflowTemplateSchema,
} from "../../gen/flyteidl/core/workflow_pb.js";
import {
  type Bindable,
  Builder,
  bindInputs,
  type CallOptions,
  currentBuilder,
  type Dependency,
  DslError,
  type NodeOutputs,
  nodeOutputs,
  Ref,
  START_NODE,
  within,
} from "./graph.js";
import {
  entityId,
  type NodeOverrides,
  nodeMetadata,
  type SerializeContext,
  typedInterface,
} from "./tasks.js";
import { literalOf, type TypeMap, type ValuesOf } from "./types.js";

export interface WorkflowSpec<I extends TypeMap, O extends TypeMap> {
  readonly name: string;
  readonly inputs: I;
  readonly outputs: O;
  /** "immediately" (Flyte's default) aborts running siblings on the first failure. */
  readonly failurePolicy?: "immediately" | "afterExecutableNodes";
}

export type WorkflowBody<I extends TypeMap, O extends TypeMap> = (
  inputs: {
    readonly [K in keyof I]: Ref<ValuesOf<I>[K]>;
  },
) => Bindable<O>;

/** What registration needs of any workflow. */
export interface WorkflowDefinition {
  readonly kind: "workflow";
  readonly name: string;
  readonly inputs: TypeMap;
  readonly outputs: TypeMap;
  /** Tasks, sub-workflows and launch plans the body calls. */
  readonly uses: ReadonlySet<Dependency>;
  template(ctx: SerializeContext): WorkflowTemplate;
}

export interface WorkflowEntity<I extends TypeMap = TypeMap, O extends TypeMap = TypeMap>
  extends WorkflowDefinition {
  /** Inside another workflow body: a sub-workflow node. */
  (inputs: Bindable<I>, opts?: CallOptions & NodeOverrides): NodeOutputs<O>;
  readonly inputs: I;
  readonly outputs: O;
}

/** A call of a workflow or launch plan inside a workflow body: a workflow node referencing it. */
function workflowNodeCall(
  self: Dependency & { readonly name: string; readonly inputs: TypeMap; readonly outputs: TypeMap },
  reference: "subWorkflowRef" | "launchplanRef",
  inputs: Record<string, unknown>,
  opts: (CallOptions & NodeOverrides) | undefined,
  required: TypeMap,
  accepted: TypeMap = required,
): NodeOutputs<TypeMap> {
  const b = currentBuilder(`${self.kind} ${self.name}`);
  const id = b.nextId(opts?.id);
  b.uses.add(self);
  const resourceType = reference === "launchplanRef" ? ResourceType.LAUNCH_PLAN : ResourceType.WORKFLOW;
  b.add(
    {
      id,
      metadata: nodeMetadata(id, opts),
      inputs: bindInputs(id, required, inputs, accepted),
      target: {
        case: "workflowNode",
        value: { reference: { case: reference, value: entityId(resourceType, self.name) } },
      },
    },
    opts?.after,
  );
  return nodeOutputs(id, self.outputs);
}

const ON_FAILURE = {
  immediately: OnFailure.FAIL_IMMEDIATELY,
  afterExecutableNodes: OnFailure.FAIL_AFTER_EXECUTABLE_NODES_COMPLETE,
} as const;

/** A workflow: `body` runs now, with references for the inputs, and returns the outputs' references. */
export function workflow<I extends TypeMap, O extends TypeMap>(
  spec: WorkflowSpec<I, O>,
  body: WorkflowBody<I, O>,
): WorkflowEntity<I, O> {
  if (typeof spec.name !== "string" || spec.name === "") throw new DslError("workflow needs a name");
  const builder = new Builder("");
  const inputRefs = Object.fromEntries(
    Object.entries(spec.inputs).map(([k, t]) => [k, new Ref(START_NODE, k, t)]),
  );
  const returned = within(builder, () => body(inputRefs as Parameters<WorkflowBody<I, O>>[0]));
  if (typeof returned !== "object" || returned === null)
    throw new DslError(`workflow ${spec.name}: the body must return an object of its outputs`);
  const outputBindings = bindInputs(
    `${spec.name} (outputs)`,
    spec.outputs,
    returned as Record<string, unknown>,
  );
  if (builder.nodes.length === 0)
    throw new DslError(`workflow ${spec.name}: the body calls no task, workflow, launch plan or gate`);
  const self = ((inputs: Bindable<I>, opts?: CallOptions & NodeOverrides) =>
    workflowNodeCall(self, "subWorkflowRef", inputs, opts, spec.inputs)) as WorkflowEntity<I, O>;
  Object.defineProperties(self, {
    kind: { value: "workflow" },
    name: { value: spec.name },
    inputs: { value: spec.inputs },
    outputs: { value: spec.outputs },
    uses: { value: builder.uses },
    template: {
      value: (ctx: SerializeContext) =>
        create(WorkflowTemplateSchema, {
          id: entityId(ResourceType.WORKFLOW, spec.name, ctx),
          metadata: { onFailure: ON_FAILURE[spec.failurePolicy ?? "immediately"] },
          interface: typedInterface(spec.inputs, spec.outputs),
          nodes: builder.nodes,
          outputs: outputBindings,
        }),
    },
  });
  return self;
}

export type Schedule =
  | { readonly cron: string; readonly kickoffInput?: string }
  | {
      readonly every: { readonly value: number; readonly unit: "minute" | "hour" | "day" };
      readonly kickoffInput?: string;
    };

export type NotifyPhase = "succeeded" | "failed" | "timedOut" | "aborted";

export interface Notification {
  readonly phases: readonly NotifyPhase[];
  readonly email?: readonly string[];
  readonly slack?: readonly string[];
  readonly pagerDuty?: readonly string[];
}

export interface LaunchPlanSpec<I extends TypeMap, O extends TypeMap> {
  readonly workflow: WorkflowEntity<I, O>;
  readonly name: string;
  /** Defaults the caller may override. */
  readonly defaultInputs?: Partial<ValuesOf<I>>;
  /** Values the caller cannot override. */
  readonly fixedInputs?: Partial<ValuesOf<I>>;
  readonly schedule?: Schedule;
  readonly notifications?: readonly Notification[];
  readonly labels?: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
  readonly maxParallelism?: number;
}

/** What registration needs of any launch plan. */
export interface LaunchPlanDefinition {
  readonly kind: "launchPlan";
  readonly name: string;
  readonly workflow: WorkflowDefinition;
  readonly inputs: TypeMap;
  readonly outputs: TypeMap;
  request(ctx: SerializeContext): LaunchPlanCreateRequest;
}

export interface LaunchPlanEntity<I extends TypeMap = TypeMap, O extends TypeMap = TypeMap>
  extends LaunchPlanDefinition {
  /** Inside a workflow body: a launch-plan node (a child execution). */
  (inputs: Partial<Bindable<I>>, opts?: CallOptions & NodeOverrides): NodeOutputs<O>;
  readonly workflow: WorkflowEntity<I, O>;
  readonly inputs: I;
  readonly outputs: O;
}

const PHASES: Record<NotifyPhase, Phase> = {
  succeeded: Phase.SUCCEEDED,
  failed: Phase.FAILED,
  timedOut: Phase.TIMED_OUT,
  aborted: Phase.ABORTED,
};
const RATE_UNITS = {
  minute: FixedRateUnit.MINUTE,
  hour: FixedRateUnit.HOUR,
  day: FixedRateUnit.DAY,
} as const;

function scheduleOf(s: Schedule) {
  const expr =
    "cron" in s
      ? { case: "cronSchedule" as const, value: { schedule: s.cron, offset: "" } }
      : { case: "rate" as const, value: { value: s.every.value, unit: RATE_UNITS[s.every.unit] } };
  return { ScheduleExpression: expr, kickoffTimeInputArg: s.kickoffInput ?? "" };
}

function notificationOf(n: Notification) {
  const phases = n.phases.map((p) => PHASES[p]);
  const targets = [
    ...(n.email === undefined ? [] : [{ case: "email" as const, value: { recipientsEmail: [...n.email] } }]),
    ...(n.slack === undefined ? [] : [{ case: "slack" as const, value: { recipientsEmail: [...n.slack] } }]),
    ...(n.pagerDuty === undefined
      ? []
      : [{ case: "pagerDuty" as const, value: { recipientsEmail: [...n.pagerDuty] } }]),
  ];
  return targets.map((type) => ({ phases, type }));
}

/** A launch plan of a workflow: defaults, fixed inputs, schedule, notifications, labels. */
export function launchPlan<I extends TypeMap, O extends TypeMap>(
  spec: LaunchPlanSpec<I, O>,
): LaunchPlanEntity<I, O> {
  if (typeof spec.name !== "string" || spec.name === "") throw new DslError("launchPlan needs a name");
  const wf = spec.workflow;
  if (typeof (wf as { inputs?: unknown } | undefined)?.inputs !== "object")
    throw new DslError(`launchPlan ${spec.name} needs a workflow (launchPlan({ name, workflow, ... }))`);
  const pick = (values: Partial<ValuesOf<I>> | undefined, what: string) =>
    Object.entries(values ?? {}).map(([k, v]) => {
      const type = wf.inputs[k];
      if (type === undefined)
        throw new DslError(`launchPlan ${spec.name}: ${what} "${k}" is not an input of workflow ${wf.name}`);
      return [k, literalOf(type, v, `${spec.name}.${what}.${k}`)] as const;
    });
  const defaults = pick(spec.defaultInputs, "default input");
  const fixed = pick(spec.fixedInputs, "fixed input");
  const fixedNames = new Set(fixed.map(([k]) => k));
  const defaultNames = new Set(defaults.map(([k]) => k));
  const open = Object.fromEntries(Object.entries(wf.inputs).filter(([k]) => !fixedNames.has(k)));
  const required = Object.fromEntries(Object.entries(open).filter(([k]) => !defaultNames.has(k)));
  const self = ((inputs: Partial<Bindable<I>>, opts?: CallOptions & NodeOverrides) =>
    workflowNodeCall(self, "launchplanRef", inputs, opts, required, open)) as LaunchPlanEntity<I, O>;
  const request = (ctx: SerializeContext) =>
    create(LaunchPlanCreateRequestSchema, {
      id: entityId(ResourceType.LAUNCH_PLAN, spec.name, ctx),
      spec: {
        workflowId: entityId(ResourceType.WORKFLOW, wf.name, ctx),
        defaultInputs: {
          parameters: Object.fromEntries(
            defaults.map(([k, lit]) => [
              k,
              {
                var: { type: wf.inputs[k]?.literalType, description: k },
                behavior: { case: "default" as const, value: lit },
              },
            ]),
          ),
        },
        fixedInputs: { literals: Object.fromEntries(fixed) },
        entityMetadata: {
          ...(spec.schedule === undefined ? {} : { schedule: scheduleOf(spec.schedule) }),
          notifications: (spec.notifications ?? []).flatMap(notificationOf),
        },
        labels: { values: { ...spec.labels } },
        annotations: { values: { ...spec.annotations } },
        maxParallelism: spec.maxParallelism ?? 0,
      },
    });
  Object.defineProperties(self, {
    kind: { value: "launchPlan" },
    name: { value: spec.name },
    workflow: { value: wf },
    inputs: { value: wf.inputs },
    outputs: { value: wf.outputs },
    request: { value: request },
  });
  return self;
}
