// TypeScript values <-> Flyte literals, guided by the declared LiteralType: numbers and bigints for integers,
// numbers for floats, strings, booleans, Dates, durations in milliseconds, arrays, records, enums (strings),
// bytes (Uint8Array), optionals (null/undefined → none), unions (first variant that accepts the value), structs (JSON objects),
// files and directories (the URI, or a local path that blob-uploads.ts replaces by its upload's URI).
import { create, type JsonObject } from "@bufbuild/protobuf";
import { durationFromMs, timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { TypedInterface } from "../gen/flyteidl/core/interface_pb.js";
import {
  type Literal,
  type LiteralMap,
  LiteralMapSchema,
  LiteralSchema,
  type Scalar,
} from "../gen/flyteidl/core/literals_pb.js";
import { BlobType_BlobDimensionality, type LiteralType, SimpleType } from "../gen/flyteidl/core/types_pb.js";

export class TypeMismatchError extends Error {}

const scalar = (value: Scalar["value"]): Literal =>
  create(LiteralSchema, { value: { case: "scalar", value: { $typeName: "flyteidl.core.Scalar", value } } });
const primitive = (
  value: NonNullable<Extract<Scalar["value"], { case: "primitive" }>["value"]>["value"],
): Literal => scalar({ case: "primitive", value: { $typeName: "flyteidl.core.Primitive", value } });
const NONE = () => scalar({ case: "noneType", value: { $typeName: "flyteidl.core.Void" } });

function fail(where: string, expected: string, value: unknown): never {
  throw new TypeMismatchError(
    `${where}: expected ${expected}, got ${typeof value === "object" ? JSON.stringify(value) : String(value)}`,
  );
}

function simpleToLiteral(t: SimpleType, v: unknown, where: string): Literal {
  switch (t) {
    case SimpleType.INTEGER:
      if (typeof v === "bigint") return primitive({ case: "integer", value: v });
      if (typeof v === "number" && Number.isInteger(v))
        return primitive({ case: "integer", value: BigInt(v) });
      return fail(where, "an integer", v);
    case SimpleType.FLOAT:
      return typeof v === "number" ? primitive({ case: "floatValue", value: v }) : fail(where, "a number", v);
    case SimpleType.STRING:
      return typeof v === "string"
        ? primitive({ case: "stringValue", value: v })
        : fail(where, "a string", v);
    case SimpleType.BOOLEAN:
      return typeof v === "boolean" ? primitive({ case: "boolean", value: v }) : fail(where, "a boolean", v);
    case SimpleType.DATETIME:
      return v instanceof Date
        ? primitive({ case: "datetime", value: timestampFromDate(v) })
        : fail(where, "a Date", v);
    case SimpleType.DURATION:
      return typeof v === "number"
        ? primitive({ case: "duration", value: durationFromMs(v) })
        : fail(where, "milliseconds", v);
    case SimpleType.NONE:
      return v === null || v === undefined ? NONE() : fail(where, "null", v);
    case SimpleType.BINARY:
      return v instanceof Uint8Array
        ? scalar({ case: "binary", value: { $typeName: "flyteidl.core.Binary", value: v, tag: "" } })
        : fail(where, "a Uint8Array", v);
    case SimpleType.STRUCT:
      return typeof v === "object" && v !== null && !Array.isArray(v)
        ? scalar({ case: "generic", value: v as JsonObject })
        : fail(where, "an object", v);
    default:
      return fail(where, `a value of simple type ${SimpleType[t]}`, v);
  }
}

/** A TS value as a literal of type `t`; throws TypeMismatchError naming the input. */
export function toLiteral(v: unknown, t: LiteralType | undefined, where = "value"): Literal {
  const tt = t?.type;
  switch (tt?.case) {
    case "simple":
      return simpleToLiteral(tt.value, v, where);
    case "collectionType":
      if (!Array.isArray(v)) return fail(where, "an array", v);
      return create(LiteralSchema, {
        value: {
          case: "collection",
          value: { literals: v.map((x, i) => toLiteral(x, tt.value, `${where}[${i}]`)) },
        },
      });
    case "mapValueType": {
      if (typeof v !== "object" || v === null || Array.isArray(v)) return fail(where, "a record", v);
      const literals = Object.fromEntries(
        Object.entries(v).map(([k, x]) => [k, toLiteral(x, tt.value, `${where}.${k}`)]),
      );
      return create(LiteralSchema, { value: { case: "map", value: { literals } } });
    }
    case "enumType":
      return typeof v === "string" && tt.value.values.includes(v)
        ? primitive({ case: "stringValue", value: v })
        : fail(where, `one of ${tt.value.values.join(", ")}`, v);
    case "unionType":
      for (const variant of tt.value.variants) {
        try {
          const value = toLiteral(v, variant, where);
          return scalar({ case: "union", value: { $typeName: "flyteidl.core.Union", value, type: variant } });
        } catch (err) {
          if (!(err instanceof TypeMismatchError)) throw err;
        }
      }
      return fail(where, "a value of one of the union's types", v);
    case "blob":
      return typeof v === "string"
        ? scalar({
            case: "blob",
            value: {
              $typeName: "flyteidl.core.Blob",
              uri: v,
              metadata: { $typeName: "flyteidl.core.BlobMetadata", type: tt.value },
            },
          })
        : fail(
            where,
            tt.value.dimensionality === BlobType_BlobDimensionality.MULTIPART
              ? "a directory path or URI"
              : "a file path or URI",
            v,
          );
    default:
      return fail(where, "a supported type", v);
  }
}

/** A literal as a plain TS value (integers as numbers when safe, else bigint). */
export function fromLiteral(lit: Literal): unknown {
  const v = lit.value;
  if (v.case === "collection") return v.value.literals.map(fromLiteral);
  if (v.case === "map")
    return Object.fromEntries(Object.entries(v.value.literals).map(([k, x]) => [k, fromLiteral(x)]));
  if (v.case !== "scalar") return undefined;
  const s = v.value.value;
  switch (s.case) {
    case "primitive": {
      const p = s.value.value;
      if (p.case === "integer") return Number.isSafeInteger(Number(p.value)) ? Number(p.value) : p.value;
      if (p.case === "datetime") return timestampDate(p.value);
      if (p.case === "duration") return Number(p.value.seconds) * 1000 + p.value.nanos / 1e6;
      return p.value;
    }
    case "noneType":
      return null;
    case "union":
      return s.value.value === undefined ? null : fromLiteral(s.value.value);
    case "generic":
      return s.value;
    case "blob":
      return s.value.uri;
    case "binary":
      return s.value.value;
    default:
      return undefined;
  }
}

/** Inputs for an interface: every name must be declared, every value must fit its type. */
export function toLiteralMap(
  values: Record<string, unknown>,
  iface: Record<string, LiteralType | undefined>,
): LiteralMap {
  const literals: Record<string, Literal> = {};
  for (const [k, v] of Object.entries(values)) {
    if (!(k in iface))
      throw new TypeMismatchError(
        `unknown input "${k}"; expected one of ${Object.keys(iface).join(", ") || "(none)"}`,
      );
    literals[k] = toLiteral(v, iface[k], k);
  }
  return create(LiteralMapSchema, { literals });
}

export function fromLiteralMap(map: LiteralMap | undefined): Record<string, unknown> {
  return Object.fromEntries(Object.entries(map?.literals ?? {}).map(([k, v]) => [k, fromLiteral(v)]));
}

export function inputTypes(iface: TypedInterface | undefined): Record<string, LiteralType | undefined> {
  return Object.fromEntries(Object.entries(iface?.inputs?.variables ?? {}).map(([k, v]) => [k, v.type]));
}
