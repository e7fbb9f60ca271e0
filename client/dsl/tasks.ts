// Task definitions: TypeScript function tasks (run by a Petrel worker) and container tasks (run by the server's
// container runtime under Flyte's raw-container data contract). Calling a task inside a workflow body adds a node.
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { durationFromMs } from "@bufbuild/protobuf/wkt";
import { IdentifierSchema, ResourceType } from "../../gen/flyteidl/core/identifier_pb.js";
import { type TypedInterface, TypedInterfaceSchema } from "../../gen/flyteidl/core/interface_pb.js";
import {
  Resources_ResourceName,
  RuntimeMetadata_RuntimeType,
  type TaskMetadataSchema,
  type TaskTemplate,
  TaskTemplateSchema,
} from "../../gen/flyteidl/core/tasks_pb.js";
import {
  type Bindable,
  bindInputs,
  type CallOptions,
  currentBuilder,
  DslError,
  type NodeOutputs,
  nodeOutputs,
} from "./graph.js";
import type { TypeMap, ValuesOf } from "./types.js";

export const FUNCTION_TASK_TYPE = "worker";
export const CONTAINER_TASK_TYPE = "raw-container";

/** Where an entity is registered: ids are stamped with these when serialized. */
export interface SerializeContext {
  readonly project: string;
  readonly domain: string;
  readonly version: string;
}

/** A duration in milliseconds, or text such as "250ms", "30s", "5m", "1h30m", "2d". */
export type DurationLike = number | string;

const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

export function durationMs(d: DurationLike, where: string): number {
  if (typeof d === "number" && d >= 0) return d;
  if (typeof d === "string" && /^(\d+(ms|s|m|h|d))+$/.test(d)) {
    let total = 0;
    for (const [, n, unit] of d.matchAll(/(\d+)(ms|s|m|h|d)/g))
      total += Number(n) * (UNIT_MS[unit ?? "ms"] ?? 0);
    return total;
  }
  throw new DslError(
    `${where}: invalid duration ${JSON.stringify(d)} (use milliseconds or e.g. "30s", "5m", "1h")`,
  );
}

export const entityId = (resourceType: ResourceType, name: string, ctx?: SerializeContext) =>
  create(IdentifierSchema, {
    resourceType,
    name,
    project: ctx?.project ?? "",
    domain: ctx?.domain ?? "",
    version: ctx?.version ?? "",
  });

export function typedInterface(inputs: TypeMap, outputs: TypeMap): TypedInterface {
  const vars = (m: TypeMap) =>
    Object.fromEntries(
      Object.entries(m).map(([k, v]) => [k, { type: v.literalType, description: `${k} (${v.description})` }]),
    );
  return create(TypedInterfaceSchema, {
    inputs: { variables: vars(inputs) },
    outputs: { variables: vars(outputs) },
  });
}

export interface CacheOptions<I extends TypeMap> {
  /** Bump to invalidate stored outputs. */
  readonly version: string;
  /** Only one concurrent run computes; the others wait for its outputs. */
  readonly serialize?: boolean;
  readonly ignoreInputs?: readonly (keyof I & string)[] | undefined;
}

interface CommonTaskSpec<I extends TypeMap, O extends TypeMap> {
  readonly name: string;
  readonly inputs: I;
  readonly outputs: O;
  readonly retries?: number;
  readonly timeout?: DurationLike;
  readonly cache?: CacheOptions<I>;
  readonly interruptible?: boolean;
  readonly description?: string;
}

export interface TaskSpec<I extends TypeMap, O extends TypeMap> extends CommonTaskSpec<I, O> {}

export interface ContainerTaskSpec<I extends TypeMap, O extends TypeMap> extends CommonTaskSpec<I, O> {
  readonly image: string;
  readonly command: readonly string[];
  readonly args?: readonly string[];
  readonly env?: Readonly<Record<string, string>>;
  /** Where inputs are written, one file per input (default /var/inputs). */
  readonly inputDataDir?: string;
  /** Where outputs are read, one file per output (default /var/outputs). */
  readonly outputDataDir?: string;
  /** CPU and memory as Kubernetes quantities (`"500m"`, `"256Mi"`): the docker runtime's container limits. */
  readonly resources?: {
    readonly requests?: ResourceQuantities;
    readonly limits?: ResourceQuantities;
  };
}

export interface ResourceQuantities {
  readonly cpu?: string;
  readonly memory?: string;
}

const resourceEntries = (q: ResourceQuantities | undefined) => [
  ...(q?.cpu === undefined ? [] : [{ name: Resources_ResourceName.CPU, value: q.cpu }]),
  ...(q?.memory === undefined ? [] : [{ name: Resources_ResourceName.MEMORY, value: q.memory }]),
];

/** What a function task gets besides its inputs. */
export interface TaskContext {
  /** Aborted when the attempt is cancelled (terminated, timed out). */
  readonly signal: AbortSignal;
  /**
   * An empty directory of this attempt, removed when it ends: write output files here and return their paths
   * (`t.file` / `t.directory` outputs given as local paths are uploaded before the attempt completes).
   */
  readonly workDir: string;
}

export type TaskFn<I extends TypeMap, O extends TypeMap> = (
  inputs: ValuesOf<I>,
  ctx: TaskContext,
) => ValuesOf<O> | Promise<ValuesOf<O>>;

/** What registration needs of any task, whatever its input and output types. */
export interface TaskDefinition {
  readonly kind: "task";
  readonly name: string;
  readonly inputs: TypeMap;
  readonly outputs: TypeMap;
  /** The function of a function task (undefined for container tasks). */
  readonly fn: ((inputs: never, ctx: TaskContext) => unknown) | undefined;
  template(ctx: SerializeContext): TaskTemplate;
}

/** A task: call it in a workflow body to add a node; register or execute it directly. */
export interface TaskEntity<I extends TypeMap = TypeMap, O extends TypeMap = TypeMap> extends TaskDefinition {
  (inputs: Bindable<I>, opts?: CallOptions & NodeOverrides): NodeOutputs<O>;
  readonly inputs: I;
  readonly outputs: O;
  readonly fn: TaskFn<I, O> | undefined;
}

/** Per-call node settings (Flyte's node metadata). */
export interface NodeOverrides {
  readonly timeout?: DurationLike;
  readonly retries?: number;
}

export function nodeMetadata(id: string, o: NodeOverrides | undefined) {
  return {
    name: id,
    ...(o?.timeout === undefined ? {} : { timeout: durationFromMs(durationMs(o.timeout, `node ${id}`)) }),
    ...(o?.retries === undefined ? {} : { retries: { retries: o.retries } }),
  };
}

function taskMetadata<I extends TypeMap, O extends TypeMap>(
  spec: CommonTaskSpec<I, O>,
): MessageInitShape<typeof TaskMetadataSchema> {
  return {
    runtime: {
      type: RuntimeMetadata_RuntimeType.FLYTE_SDK,
      version: "0.1.0",
      flavor: "petrel-ts",
    },
    retries: { retries: spec.retries ?? 0 },
    ...(spec.timeout === undefined
      ? {}
      : { timeout: durationFromMs(durationMs(spec.timeout, `task ${spec.name}: timeout`)) }),
    discoverable: spec.cache !== undefined,
    discoveryVersion: spec.cache?.version ?? "",
    cacheSerializable: spec.cache?.serialize === true,
    cacheIgnoreInputVars: [...(spec.cache?.ignoreInputs ?? [])],
    interruptibleValue:
      spec.interruptible === true ? { case: "interruptible", value: true } : { case: undefined },
  };
}

function checkSpec<I extends TypeMap, O extends TypeMap>(spec: CommonTaskSpec<I, O>, what: string): void {
  if (typeof spec.name !== "string" || spec.name === "") throw new DslError(`${what} needs a name`);
  if (spec.retries !== undefined && (!Number.isInteger(spec.retries) || spec.retries < 0))
    throw new DslError(`${what} ${spec.name}: retries must be a non-negative integer`);
}

function defineTask<I extends TypeMap, O extends TypeMap>(
  spec: CommonTaskSpec<I, O>,
  fn: TaskFn<I, O> | undefined,
  template: (ctx: SerializeContext) => TaskTemplate,
): TaskEntity<I, O> {
  const self = ((inputs: Bindable<I>, opts?: CallOptions & NodeOverrides) => {
    const b = currentBuilder(`task ${spec.name}`);
    const id = b.nextId(opts?.id);
    b.uses.add(self);
    b.add(
      {
        id,
        metadata: nodeMetadata(id, opts),
        inputs: bindInputs(id, spec.inputs, inputs as Record<string, unknown>),
        target: {
          case: "taskNode",
          value: { reference: { case: "referenceId", value: entityId(ResourceType.TASK, spec.name) } },
        },
      },
      opts?.after,
    );
    return nodeOutputs(id, spec.outputs);
  }) as TaskEntity<I, O>;
  Object.defineProperties(self, {
    kind: { value: "task" },
    name: { value: spec.name },
    inputs: { value: spec.inputs },
    outputs: { value: spec.outputs },
    fn: { value: fn },
    template: { value: template },
  });
  return self;
}

/** A TypeScript function task; a Petrel worker (or `remote.execute`) runs `fn`. */
export function task<I extends TypeMap, O extends TypeMap>(
  spec: TaskSpec<I, O>,
  fn: TaskFn<I, O>,
): TaskEntity<I, O> {
  checkSpec(spec, "task");
  if (typeof fn !== "function") throw new DslError(`task ${spec.name} needs a function`);
  return defineTask(spec, fn, (ctx) =>
    create(TaskTemplateSchema, {
      id: entityId(ResourceType.TASK, spec.name, ctx),
      type: FUNCTION_TASK_TYPE,
      metadata: taskMetadata(spec),
      interface: typedInterface(spec.inputs, spec.outputs),
    }),
  );
}

/** A container task: the image's command runs with inputs as files and reads outputs back from files. */
export function containerTask<I extends TypeMap, O extends TypeMap>(
  spec: ContainerTaskSpec<I, O>,
): TaskEntity<I, O> {
  checkSpec(spec, "containerTask");
  if (spec.image === "" || spec.command.length === 0)
    throw new DslError(`containerTask ${spec.name} needs an image and a command`);
  return defineTask(spec, undefined, (ctx) =>
    create(TaskTemplateSchema, {
      id: entityId(ResourceType.TASK, spec.name, ctx),
      type: CONTAINER_TASK_TYPE,
      metadata: taskMetadata(spec),
      interface: typedInterface(spec.inputs, spec.outputs),
      target: {
        case: "container",
        value: {
          image: spec.image,
          command: [...spec.command],
          args: [...(spec.args ?? [])],
          env: Object.entries(spec.env ?? {}).map(([key, value]) => ({ key, value })),
          ...(spec.resources === undefined
            ? {}
            : {
                resources: {
                  requests: resourceEntries(spec.resources.requests),
                  limits: resourceEntries(spec.resources.limits),
                },
              }),
          dataConfig: {
            enabled: true,
            inputPath: spec.inputDataDir ?? "/var/inputs",
            outputPath: spec.outputDataDir ?? "/var/outputs",
          },
        },
      },
    }),
  );
}
