// Checks a node's input bindings against its interface and collects the nodes it depends on.
import { create } from "@bufbuild/protobuf";
import { type Binding, type BindingData, LiteralSchema } from "../../gen/flyteidl/core/literals_pb.js";
import { type LiteralType, LiteralTypeSchema } from "../../gen/flyteidl/core/types_pb.js";
import { type CompileError, compileError } from "./compile-errors.js";
import type { NodeInterface } from "./interfaces.js";
import { formatType, isCastable, isLiteralCastable } from "./type-cast.js";

export const START_NODE = "start-node";
export const END_NODE = "end-node";

/** Output types of the nodes a binding may reference (by node id). */
export type OutputLookup = (nodeId: string) => ReadonlyMap<string, LiteralType> | undefined;

interface Ctx {
  readonly nodeId: string;
  readonly lookup: OutputLookup;
  readonly errors: CompileError[];
  readonly deps: Set<string>;
}

const anyType = (): LiteralType => create(LiteralTypeSchema);

/** Rewrites empty promise node ids to start-node (in place) and returns the type the binding produces. */
function checkData(data: BindingData | undefined, expected: LiteralType, v: string, ctx: Ctx): LiteralType {
  const b = data?.value;
  switch (b?.case) {
    case "promise": {
      if (b.value.nodeId === "") b.value.nodeId = START_NODE;
      const src = b.value.nodeId;
      ctx.deps.add(src);
      const outputs = ctx.lookup(src);
      if (outputs === undefined) {
        ctx.errors.push(
          compileError("NodeReferenceNotFound", ctx.nodeId, `Referenced node [${src}] not found.`),
        );
        return expected;
      }
      const t = outputs.get(b.value.var);
      if (t === undefined) {
        ctx.errors.push(
          compileError(
            "VariableNameNotFound",
            ctx.nodeId,
            `Variable [${b.value.var}] not found on node [${src}].`,
          ),
        );
        return expected;
      }
      if (b.value.attrPath.length === 0 && !isCastable(t, expected)) {
        ctx.errors.push(
          compileError(
            "MismatchingTypes",
            ctx.nodeId,
            `Variable [${v}] (type [${formatType(t)}]) doesn't match expected type [${formatType(expected)}].`,
          ),
        );
      }
      return t;
    }
    case "scalar": {
      const literal = create(LiteralSchema, { value: { case: "scalar", value: b.value } });
      if (!isLiteralCastable(literal, expected)) {
        ctx.errors.push(
          compileError(
            "MismatchingTypes",
            ctx.nodeId,
            `Variable [${v}] has a literal that doesn't match expected type [${formatType(expected)}].`,
          ),
        );
      }
      return expected;
    }
    case "collection": {
      const elem = expected.type.case === "collectionType" ? expected.type.value : undefined;
      if (elem === undefined && expected.type.case !== undefined && expected.type.case !== "unionType") {
        ctx.errors.push(
          compileError(
            "MismatchingBindings",
            ctx.nodeId,
            `Binding for [${v}] is a collection but [${formatType(expected)}] is expected.`,
          ),
        );
      }
      for (const item of b.value.bindings) checkData(item, elem ?? anyType(), v, ctx);
      return expected;
    }
    case "map": {
      const elem = expected.type.case === "mapValueType" ? expected.type.value : undefined;
      if (elem === undefined && expected.type.case !== undefined && expected.type.case !== "unionType") {
        ctx.errors.push(
          compileError(
            "MismatchingBindings",
            ctx.nodeId,
            `Binding for [${v}] is a map but [${formatType(expected)}] is expected.`,
          ),
        );
      }
      for (const item of Object.values(b.value.bindings)) checkData(item, elem ?? anyType(), v, ctx);
      return expected;
    }
    default:
      ctx.errors.push(compileError("ValueRequired", ctx.nodeId, `Value required [${v}].`));
      return expected;
  }
}

export interface BindingResult {
  readonly deps: Set<string>;
  /** The types of what was bound, by input name (approve gates pass them through as outputs). */
  readonly boundTypes: Map<string, LiteralType>;
}

export function checkBindings(
  nodeId: string,
  bindings: readonly Binding[],
  iface: NodeInterface,
  lookup: OutputLookup,
  errors: CompileError[],
): BindingResult {
  const ctx: Ctx = { nodeId, lookup, errors, deps: new Set() };
  const boundTypes = new Map<string, LiteralType>();
  for (const b of bindings) {
    const spec = iface.inputs.get(b.var);
    if (spec === undefined && iface.openInputs !== true) {
      errors.push(
        compileError("VariableNameNotFound", nodeId, `Variable [${b.var}] not found on node [${nodeId}].`),
      );
      continue;
    }
    if (boundTypes.has(b.var)) {
      errors.push(
        compileError("ParameterBoundMoreThanOnce", nodeId, `Input [${b.var}] is bound more than once.`),
      );
      continue;
    }
    boundTypes.set(b.var, checkData(b.binding, spec?.type ?? anyType(), b.var, ctx));
  }
  for (const [name, spec] of iface.inputs) {
    if (spec.required && !boundTypes.has(name)) {
      errors.push(compileError("ParameterNotBound", nodeId, `Parameter not bound [${name}].`));
    }
  }
  return { deps: ctx.deps, boundTypes };
}
