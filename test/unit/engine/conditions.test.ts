import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import {
  BooleanExpressionSchema,
  ComparisonExpressionSchema,
  ConjunctionExpression_LogicalOperator as Logic,
  ComparisonExpression_Operator as Op,
  OperandSchema,
} from "../../../gen/flyteidl/core/condition_pb.js";
import { LiteralMapSchema, LiteralSchema } from "../../../gen/flyteidl/core/literals_pb.js";
import { ConditionError, evaluateCondition } from "../../../server/engine/conditions.js";
import { literalFloat, literalInt, literalString } from "../../fixtures/flyte-builders.js";

const none = create(LiteralSchema, {
  value: { case: "scalar", value: { value: { case: "noneType", value: {} } } },
});
const inputs = create(LiteralMapSchema, {
  literals: { i: literalInt(5), f: literalFloat(2.5), s: literalString("b"), n: none },
});
const cmp = (operator: Op, v: string, right: MessageInitShape<typeof OperandSchema>["val"]) =>
  create(BooleanExpressionSchema, {
    expr: {
      case: "comparison",
      value: create(ComparisonExpressionSchema, {
        operator,
        leftValue: create(OperandSchema, { val: { case: "var", value: v } }),
        rightValue: create(OperandSchema, right === undefined ? {} : { val: right }),
      }),
    },
  });
const int = (n: number) => ({
  case: "primitive" as const,
  value: { value: { case: "integer" as const, value: BigInt(n) } },
});

describe("evaluateCondition", () => {
  it("compares integers, floats and strings with every operator", () => {
    expect(evaluateCondition(cmp(Op.EQ, "i", int(5)), inputs)).toBe(true);
    expect(evaluateCondition(cmp(Op.NEQ, "i", int(5)), inputs)).toBe(false);
    expect(evaluateCondition(cmp(Op.GT, "i", int(4)), inputs)).toBe(true);
    expect(evaluateCondition(cmp(Op.GTE, "i", int(6)), inputs)).toBe(false);
    expect(evaluateCondition(cmp(Op.LT, "i", int(6)), inputs)).toBe(true);
    expect(evaluateCondition(cmp(Op.LTE, "i", int(4)), inputs)).toBe(false);
    expect(
      evaluateCondition(
        cmp(Op.LT, "f", { case: "primitive", value: { value: { case: "floatValue", value: 3 } } }),
        inputs,
      ),
    ).toBe(true);
    expect(
      evaluateCondition(
        cmp(Op.EQ, "s", { case: "primitive", value: { value: { case: "stringValue", value: "b" } } }),
        inputs,
      ),
    ).toBe(true);
  });

  it("handles none, conjunctions, and reports bad comparisons", () => {
    const isNone = cmp(Op.EQ, "n", { case: "scalar", value: { value: { case: "noneType", value: {} } } });
    expect(evaluateCondition(isNone, inputs)).toBe(true);
    const and = create(BooleanExpressionSchema, {
      expr: {
        case: "conjunction",
        value: { operator: Logic.AND, leftExpression: isNone, rightExpression: cmp(Op.GT, "i", int(9)) },
      },
    });
    expect(evaluateCondition(and, inputs)).toBe(false);
    const or = create(BooleanExpressionSchema, {
      expr: {
        case: "conjunction",
        value: { operator: Logic.OR, leftExpression: isNone, rightExpression: cmp(Op.GT, "i", int(9)) },
      },
    });
    expect(evaluateCondition(or, inputs)).toBe(true);
    expect(() => evaluateCondition(cmp(Op.GT, "s", int(1)), inputs)).toThrow(ConditionError);
    expect(() => evaluateCondition(cmp(Op.GT, "missing", int(1)), inputs)).toThrow(
      "variable [missing] is not bound on the branch",
    );
  });
});
