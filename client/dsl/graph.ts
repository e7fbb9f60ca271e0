// Building a workflow graph: typed references to node outputs (Flyte's promises), conditions over them, and
// the builder that collects nodes while a workflow body runs.
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import {
  type BooleanExpression,
  BooleanExpressionSchema,
  ConjunctionExpression_LogicalOperator as Logical,
  ComparisonExpression_Operator as Op,
  type Operand,
} from "../../gen/flyteidl/core/condition_pb.js";
import {
  type Binding,
  type BindingData,
  BindingDataSchema,
  BindingSchema,
  type Literal,
} from "../../gen/flyteidl/core/literals_pb.js";
import { type Node, NodeSchema } from "../../gen/flyteidl/core/workflow_pb.js";
import { literalOf, type Type, type TypeMap, type ValueOf } from "./types.js";

export const START_NODE = "start-node";
const NODE_ID = Symbol("petrel.nodeId");

/** A DSL definition error: a workflow body that cannot become a valid Flyte workflow. */
export class DslError extends Error {}

/** A typed reference to one output of a node (or an input of the workflow), resolved when the workflow runs. */
export class Ref<T> {
  constructor(
    readonly nodeId: string,
    readonly varName: string,
    readonly type: Type<T>,
  ) {}
  eq(other: Ref<T> | T): Condition {
    return compare(Op.EQ, this, other);
  }
  ne(other: Ref<T> | T): Condition {
    return compare(Op.NEQ, this, other);
  }
  gt(other: Ref<T> | T): Condition {
    return compare(Op.GT, this, other);
  }
  gte(other: Ref<T> | T): Condition {
    return compare(Op.GTE, this, other);
  }
  lt(other: Ref<T> | T): Condition {
    return compare(Op.LT, this, other);
  }
  lte(other: Ref<T> | T): Condition {
    return compare(Op.LTE, this, other);
  }
  /** For booleans: the condition "this is true". */
  isTrue(): Condition {
    return compare(Op.EQ, this as Ref<unknown>, true);
  }
}

/** References to every output of a node; also usable in `after` to order nodes without data. */
export type NodeOutputs<O extends TypeMap> = { readonly [K in keyof O]: Ref<ValueOf<O[K]>> } & {
  readonly [NODE_ID]: string;
};

/** Values for inputs: references to upstream outputs or constants. */
export type Bindable<I extends TypeMap> = { readonly [K in keyof I]: Ref<ValueOf<I[K]>> | ValueOf<I[K]> };

export type Ordering = NodeOutputs<TypeMap> | Ref<unknown>;

export interface CallOptions {
  /** The node id (default n0, n1, … in call order). */
  readonly id?: string;
  /** Nodes that must finish first even without a data dependency. */
  readonly after?: readonly Ordering[];
}

export function nodeOutputs<O extends TypeMap>(nodeId: string, outputs: O): NodeOutputs<O> {
  const refs: Record<string | symbol, unknown> = { [NODE_ID]: nodeId };
  for (const [k, type] of Object.entries(outputs)) refs[k] = new Ref(nodeId, k, type);
  return refs as NodeOutputs<O>;
}

export const nodeIdOf = (o: Ordering): string => (o instanceof Ref ? o.nodeId : o[NODE_ID]);

/** A boolean expression over references, for `conditional`. */
export class Condition {
  constructor(readonly build: (bindVar: (r: Ref<unknown>) => string) => BooleanExpression) {}
  and(other: Condition): Condition {
    return conjunction(Logical.AND, this, other);
  }
  or(other: Condition): Condition {
    return conjunction(Logical.OR, this, other);
  }
}

function conjunction(operator: Logical, l: Condition, r: Condition): Condition {
  return new Condition((bindVar) =>
    create(BooleanExpressionSchema, {
      expr: {
        case: "conjunction",
        value: { operator, leftExpression: l.build(bindVar), rightExpression: r.build(bindVar) },
      },
    }),
  );
}

function operand(v: unknown, bindVar: (r: Ref<unknown>) => string): Operand {
  if (v instanceof Ref)
    return { $typeName: "flyteidl.core.Operand", val: { case: "var", value: bindVar(v) } };
  const p = (value: Operand["val"]): Operand => ({ $typeName: "flyteidl.core.Operand", val: value });
  const prim = (value: NonNullable<Extract<Operand["val"], { case: "primitive" }>["value"]>["value"]) =>
    p({ case: "primitive", value: { $typeName: "flyteidl.core.Primitive", value } });
  if (typeof v === "boolean") return prim({ case: "boolean", value: v });
  if (typeof v === "string") return prim({ case: "stringValue", value: v });
  if (typeof v === "bigint") return prim({ case: "integer", value: v });
  if (typeof v === "number")
    return Number.isInteger(v)
      ? prim({ case: "integer", value: BigInt(v) })
      : prim({ case: "floatValue", value: v });
  if (v === null || v === undefined)
    return p({
      case: "scalar",
      value: {
        $typeName: "flyteidl.core.Scalar",
        value: { case: "noneType", value: { $typeName: "flyteidl.core.Void" } },
      },
    });
  throw new DslError(
    `conditions compare references with numbers, strings, booleans or null, not ${String(v)}`,
  );
}

function compare(operator: Op, left: Ref<unknown>, right: unknown): Condition {
  return new Condition((bindVar) =>
    create(BooleanExpressionSchema, {
      expr: {
        case: "comparison",
        value: { operator, leftValue: operand(left, bindVar), rightValue: operand(right, bindVar) },
      },
    }),
  );
}

function literalBinding(lit: Literal): BindingData {
  const v = lit.value;
  if (v.case === "scalar") return create(BindingDataSchema, { value: { case: "scalar", value: v.value } });
  if (v.case === "collection")
    return create(BindingDataSchema, {
      value: { case: "collection", value: { bindings: v.value.literals.map(literalBinding) } },
    });
  if (v.case === "map")
    return create(BindingDataSchema, {
      value: {
        case: "map",
        value: {
          bindings: Object.fromEntries(
            Object.entries(v.value.literals).map(([k, x]) => [k, literalBinding(x)]),
          ),
        },
      },
    });
  throw new DslError("unsupported constant");
}

/** A binding for one input: a reference becomes a promise, anything else a constant of the input's type. */
export function bindingData(value: unknown, type: Type<unknown>, where: string): BindingData {
  if (value instanceof Ref)
    return create(BindingDataSchema, {
      value: { case: "promise", value: { nodeId: value.nodeId, var: value.varName } },
    });
  const lt = type.literalType.type;
  if (Array.isArray(value) && lt.case === "collectionType" && value.some((x) => x instanceof Ref)) {
    const item: Type<unknown> = { literalType: lt.value, description: `${type.description} item` };
    return create(BindingDataSchema, {
      value: {
        case: "collection",
        value: { bindings: value.map((x, i) => bindingData(x, item, `${where}[${i}]`)) },
      },
    });
  }
  return literalBinding(literalOf(type, value, where));
}

/**
 * Bindings for a node's inputs: every `required` input must be given, and only `accepted` ones (launch plans
 * accept fewer than they declare when some are fixed, and require fewer when some have defaults).
 */
export function bindInputs(
  nodeId: string,
  required: TypeMap,
  values: Record<string, unknown>,
  accepted: TypeMap = required,
): Binding[] {
  for (const k of Object.keys(values))
    if (!(k in accepted))
      throw new DslError(
        `node ${nodeId}: unknown input "${k}"; expected ${Object.keys(accepted).join(", ") || "none"}`,
      );
  for (const [k, type] of Object.entries(required))
    if (values[k] === undefined)
      throw new DslError(`node ${nodeId}: missing input "${k}" (${type.description})`);
  return Object.entries(accepted)
    .filter(([k]) => values[k] !== undefined)
    .map(([k, type]) =>
      create(BindingSchema, { var: k, binding: bindingData(values[k], type, `${nodeId}.${k}`) }),
    );
}

/** Anything a workflow uses that must be registered with it (tasks, sub-workflows, launch plans). */
export interface Dependency {
  readonly kind: "task" | "workflow" | "launchPlan";
}

/** Collects the nodes of one workflow body (or of one branch case). */
export class Builder {
  readonly nodes: Node[] = [];
  readonly uses = new Set<Dependency>();
  private counter = 0;
  private readonly ids = new Set<string>();

  constructor(private readonly prefix: string) {}

  nextId(requested?: string): string {
    const id = requested ?? `${this.prefix}n${this.counter++}`;
    if (this.ids.has(id) || id === START_NODE) throw new DslError(`duplicate node id "${id}"`);
    this.ids.add(id);
    return id;
  }

  add(init: MessageInitShape<typeof NodeSchema>, after: readonly Ordering[] = []): Node {
    const node = create(NodeSchema, init);
    node.upstreamNodeIds.push(...after.map(nodeIdOf));
    this.nodes.push(node);
    return node;
  }
}

const stack: Builder[] = [];

/** The builder of the workflow body being defined; DSL calls outside a body are errors. */
export function currentBuilder(what: string): Builder {
  const b = stack[stack.length - 1];
  if (b === undefined)
    throw new DslError(`${what} can only be called inside a workflow body (workflow(spec, body))`);
  return b;
}

/** Runs `fn` with `builder` collecting the nodes it creates. */
export function within<R>(builder: Builder, fn: () => R): R {
  stack.push(builder);
  try {
    return fn();
  } finally {
    stack.pop();
  }
}
