import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { fromLiteral, TypeMismatchError, toLiteral, toLiteralMap } from "../../../client/type-engine.js";
import { LiteralTypeSchema, SimpleType } from "../../../gen/flyteidl/core/types_pb.js";
import {
  boolType,
  collectionOf,
  datetimeType,
  floatType,
  intType,
  mapOf,
  noneType,
  simple,
  stringType,
  unionOf,
} from "../../fixtures/flyte-builders.js";

const roundTrip = (v: unknown, t: Parameters<typeof toLiteral>[1]) => fromLiteral(toLiteral(v, t));

describe("type engine", () => {
  it("round-trips every supported type", () => {
    expect(roundTrip(3, intType())).toBe(3);
    expect(roundTrip(2n ** 60n, intType())).toBe(2n ** 60n);
    expect(roundTrip(1.5, floatType())).toBe(1.5);
    expect(roundTrip("x", stringType())).toBe("x");
    expect(roundTrip(true, boolType())).toBe(true);
    const d = new Date("2024-05-01T10:00:00.123Z");
    expect(roundTrip(d, datetimeType())).toEqual(d);
    expect(roundTrip(90_000, simple(SimpleType.DURATION))).toBe(90_000);
    expect(roundTrip([1, 2, 3], collectionOf(intType()))).toEqual([1, 2, 3]);
    expect(roundTrip({ a: ["x"] }, mapOf(collectionOf(stringType())))).toEqual({ a: ["x"] });
    expect(roundTrip({ k: { nested: [1, "two"] } }, simple(SimpleType.STRUCT))).toEqual({
      k: { nested: [1, "two"] },
    });
    const enumType = create(LiteralTypeSchema, {
      type: { case: "enumType", value: { values: ["red", "green"] } },
    });
    expect(roundTrip("green", enumType)).toBe("green");
    const optional = unionOf(intType(), noneType());
    expect(roundTrip(null, optional)).toBe(null);
    expect(roundTrip(7, optional)).toBe(7);
    expect(roundTrip("s", unionOf(intType(), stringType()))).toBe("s");
  });

  it("explains mismatches, naming the input", () => {
    expect(() => toLiteral("3", intType(), "n")).toThrow(
      new TypeMismatchError("n: expected an integer, got 3"),
    );
    expect(() => toLiteral([1, "x"], collectionOf(intType()), "xs")).toThrow("xs[1]: expected an integer");
    expect(() => toLiteralMap({ nope: 1 }, { a: intType() })).toThrow(
      'unknown input "nope"; expected one of a',
    );
    expect(() =>
      toLiteral(
        "blue",
        create(LiteralTypeSchema, { type: { case: "enumType", value: { values: ["red"] } } }),
        "c",
      ),
    ).toThrow("c: expected one of red");
  });
});
