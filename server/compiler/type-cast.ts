// Flyte's castability rules: whether a value of one LiteralType may flow into a parameter of another, and whether
// a literal value fits a type.
import { create } from "@bufbuild/protobuf";
import type { Literal, Scalar } from "../../gen/flyteidl/core/literals_pb.js";
import { type LiteralType, LiteralTypeSchema, SimpleType } from "../../gen/flyteidl/core/types_pb.js";
import { modelText } from "../transformers/model-text.js";

const isEmpty = (t: LiteralType): boolean => t.type.case === undefined;
const isNone = (t: LiteralType): boolean => t.type.case === "simple" && t.type.value === SimpleType.NONE;

function formatsCompatible(a: string, b: string): boolean {
  return a === "" || b === "" || a.toLowerCase() === b.toLowerCase();
}

function castableToUnion(up: LiteralType, down: LiteralType & { type: { case: "unionType" } }): boolean {
  const variants = down.type.value.variants;
  if (up.type.case === "unionType")
    return up.type.value.variants.every((u) => variants.some((d) => isCastable(u, d)));
  return variants.some((d) => isCastable(up, d));
}

function castableSimple(up: LiteralType, down: SimpleType): boolean {
  if (up.type.case === "enumType") return down === SimpleType.STRING;
  if (up.type.case !== "simple") return false;
  return up.type.value === down;
}

/** Whether an upstream output of type `up` can be bound to a downstream input of type `down`. */
export function isCastable(up: LiteralType, down: LiteralType): boolean {
  if (isEmpty(down) || isEmpty(up)) return true;
  const d = down.type;
  if (d.case === "unionType")
    return castableToUnion(up, down as LiteralType & { type: { case: "unionType" } });
  if (up.type.case === "unionType") return up.type.value.variants.every((u) => isCastable(u, down));
  if (isNone(up)) return isNone(down);
  const u = up.type;
  switch (d.case) {
    case "simple":
      return castableSimple(up, d.value);
    case "collectionType":
      return u.case === "collectionType" && isCastable(u.value, d.value);
    case "mapValueType":
      return u.case === "mapValueType" && isCastable(u.value, d.value);
    case "enumType":
      return u.case === "enumType" && u.value.values.every((v) => d.value.values.includes(v));
    case "blob":
      return (
        u.case === "blob" &&
        u.value.dimensionality === d.value.dimensionality &&
        formatsCompatible(u.value.format, d.value.format)
      );
    case "structuredDatasetType": {
      if (u.case !== "structuredDatasetType") return false;
      if (!formatsCompatible(u.value.format, d.value.format)) return false;
      if (u.value.columns.length === 0 || d.value.columns.length === 0) return true;
      return d.value.columns.every((dc) =>
        u.value.columns.some(
          (uc) =>
            uc.name === dc.name &&
            isCastable(
              uc.literalType ?? create(LiteralTypeSchema),
              dc.literalType ?? create(LiteralTypeSchema),
            ),
        ),
      );
    }
    case "schema":
      if (u.case !== "schema") return false;
      return d.value.columns.every(
        (dc) =>
          u.value.columns.length === 0 ||
          u.value.columns.some((uc) => uc.name === dc.name && uc.type === dc.type),
      );
    default:
      return false;
  }
}

function scalarFits(s: Scalar, t: LiteralType): boolean {
  const v = s.value;
  const tt = t.type;
  if (tt.case === "simple") {
    switch (tt.value) {
      case SimpleType.NONE:
        return v.case === "noneType";
      case SimpleType.BINARY:
        return v.case === "binary";
      case SimpleType.ERROR:
        return v.case === "error";
      case SimpleType.STRUCT:
        return v.case === "generic" || v.case === "binary";
      default: {
        if (v.case !== "primitive") return false;
        const p = v.value.value.case;
        const want: Partial<Record<SimpleType, string>> = {
          [SimpleType.INTEGER]: "integer",
          [SimpleType.FLOAT]: "floatValue",
          [SimpleType.STRING]: "stringValue",
          [SimpleType.BOOLEAN]: "boolean",
          [SimpleType.DATETIME]: "datetime",
          [SimpleType.DURATION]: "duration",
        };
        return want[tt.value] === p;
      }
    }
  }
  if (tt.case === "enumType") {
    return (
      v.case === "primitive" &&
      v.value.value.case === "stringValue" &&
      tt.value.values.includes(v.value.value.value)
    );
  }
  if (tt.case === "blob")
    return (
      v.case === "blob" &&
      (v.value.metadata?.type?.dimensionality ?? tt.value.dimensionality) === tt.value.dimensionality
    );
  if (tt.case === "structuredDatasetType") return v.case === "structuredDataset";
  if (tt.case === "schema") return v.case === "schema";
  return false;
}

/** Whether a literal value can be passed where `t` is expected. */
export function isLiteralCastable(lit: Literal, t: LiteralType): boolean {
  if (isEmpty(t)) return true;
  const v = lit.value;
  // An offloaded value is checked by the type it was stored with.
  if (v.case === "offloadedMetadata")
    return v.value.inferredType !== undefined && isCastable(v.value.inferredType, t);
  if (t.type.case === "unionType") {
    if (v.case === "scalar" && v.value.value.case === "union") {
      const inner = v.value.value.value;
      return inner.value !== undefined && isLiteralCastable(inner.value, t);
    }
    return t.type.value.variants.some((variant) => isLiteralCastable(lit, variant));
  }
  if (v.case === "scalar" && v.value.value.case === "union" && v.value.value.value.value !== undefined) {
    return isLiteralCastable(v.value.value.value.value, t);
  }
  switch (t.type.case) {
    case "collectionType": {
      const elem = t.type.value;
      return v.case === "collection" && v.value.literals.every((l) => isLiteralCastable(l, elem));
    }
    case "mapValueType": {
      const elem = t.type.value;
      return v.case === "map" && Object.values(v.value.literals).every((l) => isLiteralCastable(l, elem));
    }
    default:
      return v.case === "scalar" && scalarFits(v.value, t);
  }
}

/** A readable rendering of a type for error messages. */
export function formatType(t: LiteralType | undefined): string {
  if (t === undefined) return "<nil>";
  return modelText(LiteralTypeSchema, {
    ...t,
    metadata: undefined,
    annotation: undefined,
    structure: undefined,
  });
}
