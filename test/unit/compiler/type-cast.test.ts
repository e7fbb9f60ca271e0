import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { LiteralSchema } from "../../../gen/flyteidl/core/literals_pb.js";
import { BlobType_BlobDimensionality, LiteralTypeSchema } from "../../../gen/flyteidl/core/types_pb.js";
import { isCastable, isLiteralCastable } from "../../../server/compiler/type-cast.js";
import {
  boolType,
  collectionOf,
  floatType,
  intType,
  literalInt,
  literalString,
  mapOf,
  noneType,
  stringType,
  unionOf,
} from "../../fixtures/flyte-builders.js";

const enumOf = (...values: string[]) =>
  create(LiteralTypeSchema, { type: { case: "enumType", value: { values } } });
const blob = (format: string, dim = BlobType_BlobDimensionality.SINGLE) =>
  create(LiteralTypeSchema, { type: { case: "blob", value: { format, dimensionality: dim } } });

describe("isCastable", () => {
  it("matches simple types exactly", () => {
    expect(isCastable(intType(), intType())).toBe(true);
    expect(isCastable(intType(), floatType())).toBe(false);
    expect(isCastable(stringType(), boolType())).toBe(false);
  });
  it("recurses into collections and maps", () => {
    expect(isCastable(collectionOf(intType()), collectionOf(intType()))).toBe(true);
    expect(isCastable(collectionOf(intType()), collectionOf(stringType()))).toBe(false);
    expect(isCastable(mapOf(intType()), collectionOf(intType()))).toBe(false);
    expect(isCastable(mapOf(collectionOf(intType())), mapOf(collectionOf(intType())))).toBe(true);
  });
  it("handles unions and optionals", () => {
    const optInt = unionOf(intType(), noneType());
    expect(isCastable(intType(), optInt)).toBe(true);
    expect(isCastable(noneType(), optInt)).toBe(true);
    expect(isCastable(optInt, intType())).toBe(false);
    expect(isCastable(optInt, unionOf(noneType(), intType(), stringType()))).toBe(true);
    expect(isCastable(noneType(), intType())).toBe(false);
  });
  it("handles enums and blobs", () => {
    expect(isCastable(enumOf("a", "b"), stringType())).toBe(true);
    expect(isCastable(enumOf("a"), enumOf("a", "b"))).toBe(true);
    expect(isCastable(enumOf("c"), enumOf("a", "b"))).toBe(false);
    expect(isCastable(blob("csv"), blob(""))).toBe(true);
    expect(isCastable(blob("csv"), blob("parquet"))).toBe(false);
    expect(isCastable(blob("", BlobType_BlobDimensionality.MULTIPART), blob(""))).toBe(false);
  });
});

describe("isLiteralCastable", () => {
  it("checks literal values against types", () => {
    expect(isLiteralCastable(literalInt(3), intType())).toBe(true);
    expect(isLiteralCastable(literalString("x"), intType())).toBe(false);
    expect(isLiteralCastable(literalString("a"), enumOf("a", "b"))).toBe(true);
    expect(isLiteralCastable(literalString("z"), enumOf("a", "b"))).toBe(false);
    const none = create(LiteralSchema, {
      value: { case: "scalar", value: { value: { case: "noneType", value: {} } } },
    });
    expect(isLiteralCastable(none, unionOf(intType(), noneType()))).toBe(true);
    expect(isLiteralCastable(none, intType())).toBe(false);
    const coll = create(LiteralSchema, {
      value: { case: "collection", value: { literals: [literalInt(1), literalInt(2)] } },
    });
    expect(isLiteralCastable(coll, collectionOf(intType()))).toBe(true);
    expect(isLiteralCastable(coll, collectionOf(stringType()))).toBe(false);
  });
});
