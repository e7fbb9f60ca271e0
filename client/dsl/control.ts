// Control flow inside workflow bodies: conditional branches, gates (approve, waitForInput, sleep) and map over
// collections (Flyte's array node).
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { durationFromMs } from "@bufbuild/protobuf/wkt";
import { ResourceType } from "../../gen/flyteidl/core/identifier_pb.js";
import { type Binding, BindingSchema } from "../../gen/flyteidl/core/literals_pb.js";
import {
  ArrayNode_DataMode,
  type IfBlock,
  type Node,
  type NodeSchema,
} from "../../gen/flyteidl/core/workflow_pb.js";
import {
  type Bindable,
  Builder,
  bindInputs,
  bindingData,
  type CallOptions,
  type Condition,
  currentBuilder,
  DslError,
  type NodeOutputs,
  nodeIdOf,
  nodeOutputs,
  type Ordering,
  Ref,
  within,
} from "./graph.js";
import {
  type DurationLike,
  durationMs,
  entityId,
  type NodeOverrides,
  nodeMetadata,
  type TaskEntity,
} from "./tasks.js";
import { type Type, type TypeMap, t, type ValueOf } from "./types.js";

const OUT = "o0";

interface GateOptions {
  readonly id?: string;
  readonly after?: readonly Ordering[];
  /** How long the gate may wait (the node then TIMED_OUT). */
  readonly timeout?: DurationLike;
}

function gate(
  what: string,
  opts: GateOptions | undefined,
  condition: NonNullable<MessageInitShape<typeof NodeSchema>["target"]>,
  inputs: Binding[] = [],
) {
  const b = currentBuilder(what);
  const id = b.nextId(opts?.id);
  b.add({ id, metadata: nodeMetadata(id, opts), inputs, target: condition }, opts?.after);
  return id;
}

/**
 * A human approval. With a value, the gate passes it through once approved (and fails the workflow with
 * ReceivedRejectSignal when rejected); the returned reference is that value.
 */
export function approve<T>(signalId: string, value: Ref<T>, opts?: GateOptions): Ref<T>;
export function approve(signalId: string, value?: undefined, opts?: GateOptions): NodeOutputs<TypeMap>;
export function approve<T>(
  signalId: string,
  value?: Ref<T>,
  opts?: GateOptions,
): Ref<T> | NodeOutputs<TypeMap> {
  const inputs =
    value === undefined
      ? []
      : [create(BindingSchema, { var: OUT, binding: bindingData(value, value.type, signalId) })];
  const id = gate(
    `approve(${signalId})`,
    opts,
    { case: "gateNode", value: { condition: { case: "approve", value: { signalId } } } },
    inputs,
  );
  return value === undefined ? nodeOutputs(id, {}) : new Ref(id, OUT, value.type);
}

/** Waits for a signal of the given type, set with SetSignal (`petrel signal set`, `remote.setInput`). */
export function waitForInput<T>(signalId: string, type: Type<T>, opts?: GateOptions): Ref<T> {
  const id = gate(`waitForInput(${signalId})`, opts, {
    case: "gateNode",
    value: {
      condition: { case: "signal", value: { signalId, type: type.literalType, outputVariableName: OUT } },
    },
  });
  return new Ref(id, OUT, type);
}

/** A durable timer: the workflow continues after `duration` (survives server restarts). */
export function sleep(duration: DurationLike, opts?: Omit<GateOptions, "timeout">): NodeOutputs<TypeMap> {
  const ms = durationMs(duration, "sleep");
  const id = gate("sleep", opts, {
    case: "gateNode",
    value: { condition: { case: "sleep", value: { duration: durationFromMs(ms) } } },
  });
  return nodeOutputs(id, {});
}

function outputsOf(returned: unknown, node: Node, where: string): TypeMap {
  if (typeof returned !== "object" || returned === null || nodeIdOf(returned as Ordering) !== node.id)
    throw new DslError(`${where}: return the outputs of the call made in the case`);
  return Object.fromEntries(
    Object.entries(returned).flatMap(([k, v]) => (v instanceof Ref ? [[k, v.type]] : [])),
  );
}

/** `conditional().if(cond, () => a(...)).elif(...).else(() => b(...))` — Flyte's branch node. */
export function conditional(id?: string): {
  if<O extends TypeMap>(c: Condition, then: () => NodeOutputs<O>): Cases<O>;
} {
  const parent = currentBuilder("conditional");
  const branchId = parent.nextId(id);
  return {
    if: <O extends TypeMap>(c: Condition, then: () => NodeOutputs<O>) =>
      new Cases<O>(parent, branchId).add(c, then),
  };
}

export class Cases<O extends TypeMap> {
  private readonly cases: { condition: Condition; node: Node; outputs: TypeMap }[] = [];

  constructor(
    private readonly parent: Builder,
    private readonly id: string,
  ) {}

  private caseNode(then: () => NodeOutputs<TypeMap>): { node: Node; outputs: TypeMap } {
    const where = `conditional ${this.id}, case ${this.cases.length}`;
    // The server prefixes case nodes with their branch's id, as Flyte's compiler does (`<branch>-c<i>-n0`).
    const b = new Builder(`c${this.cases.length}-`);
    const returned = within(b, then);
    const [node, ...more] = b.nodes;
    if (node === undefined || more.length > 0)
      throw new DslError(`${where}: a case must make exactly one call (a task, workflow or launch plan)`);
    for (const u of b.uses) this.parent.uses.add(u);
    return { node, outputs: outputsOf(returned, node, where) };
  }

  add(condition: Condition, then: () => NodeOutputs<O>): this {
    this.cases.push({ condition, ...this.caseNode(then) });
    return this;
  }

  elif(condition: Condition, then: () => NodeOutputs<O>): this {
    return this.add(condition, then);
  }

  else(then: () => NodeOutputs<O>): NodeOutputs<O> {
    const c = this.caseNode(then);
    return this.finish({ case: "elseNode", value: c.node }, [...this.cases.map((x) => x.outputs), c.outputs]);
  }

  /** No case matched: the branch fails with this message. */
  fail(message: string): NodeOutputs<O> {
    return this.finish(
      { case: "error", value: { failedNodeId: this.id, message } },
      this.cases.map((x) => x.outputs),
    );
  }

  private finish(
    fallback:
      | { case: "elseNode"; value: Node }
      | { case: "error"; value: { failedNodeId: string; message: string } },
    all: TypeMap[],
  ): NodeOutputs<O> {
    // Every reference a condition reads becomes one input of the branch node: c0, c1, … in order of use.
    const vars = new Map<string, { name: string; ref: Ref<unknown> }>();
    const bindVar = (ref: Ref<unknown>) => {
      const key = `${ref.nodeId}.${ref.varName}`;
      const bound = vars.get(key) ?? { name: `c${vars.size}`, ref };
      vars.set(key, bound);
      return bound.name;
    };
    const blocks: Omit<IfBlock, "$typeName">[] = this.cases.map((c) => ({
      condition: c.condition.build(bindVar),
      thenNode: c.node,
    }));
    const [first, ...other] = blocks;
    if (first === undefined) throw new DslError(`conditional ${this.id} has no case`);
    this.parent.add({
      id: this.id,
      metadata: nodeMetadata(this.id, undefined),
      inputs: [...vars.values()].map(({ name, ref }) =>
        create(BindingSchema, { var: name, binding: bindingData(ref, ref.type, name) }),
      ),
      target: { case: "branchNode", value: { ifElse: { case: first, other, default: fallback } } },
    });
    const common = Object.fromEntries(Object.entries(all[0] ?? {}).filter(([k]) => all.every((o) => k in o)));
    return nodeOutputs(this.id, common) as NodeOutputs<O>;
  }
}

type Lists<M extends TypeMap> = { readonly [K in keyof M]: Type<ValueOf<M[K]>[]> };

export interface MapOptions {
  /** How many elements run at once (default: all). */
  readonly parallelism?: number;
  readonly minSuccesses?: number;
  readonly minSuccessRatio?: number;
}

/** Runs `task` over every element of collection inputs; outputs are collections in input order. */
export function map<I extends TypeMap, O extends TypeMap>(
  task: TaskEntity<I, O>,
  opts: MapOptions = {},
): (inputs: Bindable<Lists<I>>, call?: CallOptions & NodeOverrides) => NodeOutputs<Lists<O>> {
  const lists = <M extends TypeMap>(m: M) =>
    Object.fromEntries(Object.entries(m).map(([k, v]) => [k, t.list(v)])) as unknown as Lists<M>;
  if (opts.minSuccessRatio !== undefined && !(opts.minSuccessRatio >= 0 && opts.minSuccessRatio <= 1))
    throw new DslError(`map(${task.name}): minSuccessRatio must be between 0 and 1`);
  return (inputs, call) => {
    const b = currentBuilder(`map(${task.name})`);
    const id = b.nextId(call?.id);
    b.uses.add(task);
    b.add(
      {
        id,
        metadata: nodeMetadata(id, call),
        inputs: bindInputs(id, lists(task.inputs), inputs as Record<string, unknown>),
        target: {
          case: "arrayNode",
          value: {
            node: {
              id: `${id}-item`,
              metadata: { name: task.name },
              target: {
                case: "taskNode",
                value: { reference: { case: "referenceId", value: entityId(ResourceType.TASK, task.name) } },
              },
            },
            // The task keeps its own (scalar) interface and reads its element's inputs, as flytekit's
            // array_node over a reference task: the server makes the node's interface list-shaped.
            isOriginalSubNodeInterface: true,
            dataMode: ArrayNode_DataMode.INDIVIDUAL_INPUT_FILES,
            parallelismOption:
              opts.parallelism === undefined
                ? { case: undefined }
                : { case: "parallelism", value: opts.parallelism },
            successCriteria:
              opts.minSuccesses !== undefined
                ? { case: "minSuccesses", value: opts.minSuccesses }
                : opts.minSuccessRatio !== undefined
                  ? { case: "minSuccessRatio", value: opts.minSuccessRatio }
                  : { case: undefined },
          },
        },
      },
      call?.after,
    );
    return nodeOutputs(id, lists(task.outputs));
  };
}
