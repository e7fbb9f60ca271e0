// Branch conditions: Flyte's comparison and conjunction expressions over primitives and none, evaluated against
// the branch node's bound inputs. Pure.
import {
  type BooleanExpression,
  ConjunctionExpression_LogicalOperator as Logic,
  ComparisonExpression_Operator as Op,
  type Operand,
} from "../../gen/flyteidl/core/condition_pb.js";
import type { LiteralMap, Primitive, Scalar } from "../../gen/flyteidl/core/literals_pb.js";

export class ConditionError extends Error {}

type Value = { kind: "none" } | { kind: "value"; v: number | string | boolean | bigint };

function fromPrimitive(p: Primitive): Value {
  const x = p.value;
  switch (x.case) {
    case "integer":
    case "floatValue":
    case "stringValue":
    case "boolean":
      return { kind: "value", v: x.value };
    case "datetime":
      return { kind: "value", v: Number(x.value.seconds) * 1e9 + x.value.nanos };
    case "duration":
      return { kind: "value", v: Number(x.value.seconds) * 1e9 + x.value.nanos };
    default:
      throw new ConditionError("unsupported primitive in condition");
  }
}

function fromScalar(s: Scalar | undefined): Value {
  if (s?.value.case === "noneType") return { kind: "none" };
  if (s?.value.case === "primitive") return fromPrimitive(s.value.value);
  if (s?.value.case === "union" && s.value.value.value?.value.case === "scalar")
    return fromScalar(s.value.value.value.value.value);
  throw new ConditionError("conditions compare primitives and none only");
}

function operand(o: Operand | undefined, inputs: LiteralMap): Value {
  const v = o?.val;
  if (v?.case === "primitive") return fromPrimitive(v.value);
  if (v?.case === "scalar") return fromScalar(v.value);
  if (v?.case === "var") {
    const lit = inputs.literals[v.value];
    if (lit === undefined) throw new ConditionError(`variable [${v.value}] is not bound on the branch`);
    if (lit.value.case !== "scalar") throw new ConditionError(`variable [${v.value}] is not a scalar`);
    return fromScalar(lit.value.value);
  }
  throw new ConditionError("operand has no value");
}

function compare(op: Op, a: Value, b: Value): boolean {
  if (a.kind === "none" || b.kind === "none") {
    const same = a.kind === b.kind;
    if (op === Op.EQ) return same;
    if (op === Op.NEQ) return !same;
    throw new ConditionError("none can only be compared with == or !=");
  }
  const x = typeof a.v === "bigint" ? Number(a.v) : a.v;
  const y = typeof b.v === "bigint" ? Number(b.v) : b.v;
  if (typeof x !== typeof y) throw new ConditionError(`cannot compare ${typeof x} with ${typeof y}`);
  switch (op) {
    case Op.EQ:
      return x === y;
    case Op.NEQ:
      return x !== y;
    case Op.GT:
      return x > y;
    case Op.GTE:
      return x >= y;
    case Op.LT:
      return x < y;
    case Op.LTE:
      return x <= y;
  }
}

export function evaluateCondition(e: BooleanExpression | undefined, inputs: LiteralMap): boolean {
  const x = e?.expr;
  if (x?.case === "comparison")
    return compare(x.value.operator, operand(x.value.leftValue, inputs), operand(x.value.rightValue, inputs));
  if (x?.case === "conjunction") {
    const left = evaluateCondition(x.value.leftExpression, inputs);
    if (x.value.operator === Logic.AND) return left && evaluateCondition(x.value.rightExpression, inputs);
    return left || evaluateCondition(x.value.rightExpression, inputs);
  }
  throw new ConditionError("empty condition");
}
