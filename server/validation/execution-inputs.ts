// Resolves an execution's inputs against a launch plan: user inputs, then defaults, then fixed inputs.
import { create } from "@bufbuild/protobuf";
import type { ParameterMap } from "../../gen/flyteidl/core/interface_pb.js";
import { type Literal, type LiteralMap, LiteralMapSchema } from "../../gen/flyteidl/core/literals_pb.js";
import { formatType, isLiteralCastable } from "../compiler/type-cast.js";
import { invalidArgument } from "../errors.js";
import { literalTypeName } from "../transformers/literals.js";

export function validateInputMap(inputs: LiteralMap | undefined): void {
  for (const [k, v] of Object.entries(inputs?.literals ?? {})) {
    if (k === "") throw invalidArgument("missing key in inputs");
    if (v.value.case === undefined) throw invalidArgument(`missing valid literal in inputs ${k}`);
  }
}

export function resolveInputs(
  expected: ParameterMap | undefined,
  fixed: LiteralMap | undefined,
  user: LiteralMap | undefined,
): LiteralMap {
  const params = expected?.parameters ?? {};
  const given = user?.literals ?? {};
  const out: Record<string, Literal> = {};
  for (const [k, lit] of Object.entries(given)) {
    const p = params[k];
    if (p === undefined) throw invalidArgument(`invalid input ${k}`);
    const t = p.var?.type;
    if (t !== undefined && !isLiteralCastable(lit, t)) {
      throw invalidArgument(
        `invalid ${k} input wrong type. Expected ${formatType(t)}, but got ${literalTypeName(lit)}`,
      );
    }
    out[k] = lit;
  }
  for (const [k, p] of Object.entries(params)) {
    if (out[k] !== undefined) continue;
    if (p.behavior.case === "default") out[k] = p.behavior.value;
    else if (p.behavior.case === "required" && p.behavior.value)
      throw invalidArgument(`expected_inputs ${k} missing`);
  }
  for (const [k, lit] of Object.entries(fixed?.literals ?? {})) {
    if (params[k]?.behavior.case === "default" && given[k] !== undefined) {
      throw invalidArgument(`fixed_inputs ${k} cannot be overridden`);
    }
    out[k] = lit;
  }
  return create(LiteralMapSchema, { literals: out });
}
