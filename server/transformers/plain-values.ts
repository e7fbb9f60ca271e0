// Literals <-> plain JSON values, for container tasks' inputs.json/outputs.json and per-variable files.
import { create } from "@bufbuild/protobuf";
import { timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import { type Literal, LiteralSchema, type Primitive } from "../../gen/flyteidl/core/literals_pb.js";
import { type LiteralType, SimpleType } from "../../gen/flyteidl/core/types_pb.js";

export type Plain = null | boolean | number | string | Plain[] | { [k: string]: Plain };

function primitiveToPlain(p: Primitive): Plain {
  const v = p.value;
  switch (v.case) {
    case "integer":
      return Number(v.value);
    case "floatValue":
    case "stringValue":
    case "boolean":
      return v.value;
    case "datetime":
      return timestampDate(v.value).toISOString();
    case "duration":
      return Number(v.value.seconds) + v.value.nanos / 1e9;
    default:
      return null;
  }
}

/** A literal as a plain value; a blob is its URI (as `blobUri` shows it). */
export function literalToPlain(lit: Literal, blobUri: (uri: string) => string = (u) => u): Plain {
  const v = lit.value;
  if (v.case === "collection") return v.value.literals.map((l) => literalToPlain(l, blobUri));
  if (v.case === "map")
    return Object.fromEntries(
      Object.entries(v.value.literals).map(([k, l]) => [k, literalToPlain(l, blobUri)]),
    );
  if (v.case !== "scalar") return null;
  const s = v.value.value;
  if (s.case === "primitive") return primitiveToPlain(s.value);
  if (s.case === "union" && s.value.value !== undefined) return literalToPlain(s.value.value, blobUri);
  if (s.case === "generic") return s.value as Plain;
  if (s.case === "blob") return blobUri(s.value.uri);
  return null;
}

const scalar = (value: Literal["value"] & { case: "scalar" }) => create(LiteralSchema, { value });
const prim = (value: Primitive["value"]): Literal =>
  scalar({
    case: "scalar",
    value: {
      $typeName: "flyteidl.core.Scalar",
      value: { case: "primitive", value: { $typeName: "flyteidl.core.Primitive", value } },
    },
  });

/**
 * A plain value read back as a literal of the declared type (a blob from its URI, as `blobUri` names it); throws with
 * a readable message when it does not fit.
 */
export function plainToLiteral(
  value: Plain,
  t: LiteralType | undefined,
  blobUri: (uri: string) => string = (u) => u,
): Literal {
  const tt = t?.type;
  if (tt?.case === "collectionType") {
    if (!Array.isArray(value)) throw new Error(`expected a list, got ${JSON.stringify(value)}`);
    return create(LiteralSchema, {
      value: {
        case: "collection",
        value: { literals: value.map((x) => plainToLiteral(x, tt.value, blobUri)) },
      },
    });
  }
  if (tt?.case === "blob") {
    if (typeof value !== "string" || value.trim() === "")
      throw new Error(`expected a file or directory location, got ${JSON.stringify(value)}`);
    return scalar({
      case: "scalar",
      value: {
        $typeName: "flyteidl.core.Scalar",
        value: {
          case: "blob",
          value: {
            $typeName: "flyteidl.core.Blob",
            metadata: { $typeName: "flyteidl.core.BlobMetadata", type: tt.value },
            uri: blobUri(value.trim()),
          },
        },
      },
    });
  }
  if (tt?.case === "mapValueType") {
    if (value === null || typeof value !== "object" || Array.isArray(value))
      throw new Error(`expected a map, got ${JSON.stringify(value)}`);
    const literals = Object.fromEntries(
      Object.entries(value).map(([k, x]) => [k, plainToLiteral(x, tt.value, blobUri)]),
    );
    return create(LiteralSchema, { value: { case: "map", value: { literals } } });
  }
  if (tt?.case === "enumType") {
    if (typeof value !== "string" || !tt.value.values.includes(value))
      throw new Error(`${JSON.stringify(value)} is not one of ${tt.value.values.join(", ")}`);
    return prim({ case: "stringValue", value });
  }
  const simple = tt?.case === "simple" ? tt.value : undefined;
  switch (simple) {
    case SimpleType.INTEGER: {
      const n = typeof value === "string" ? Number(value.trim()) : value;
      if (typeof n !== "number" || !Number.isInteger(n))
        throw new Error(`expected an integer, got ${JSON.stringify(value)}`);
      return prim({ case: "integer", value: BigInt(n) });
    }
    case SimpleType.FLOAT: {
      const n = typeof value === "string" ? Number(value.trim()) : value;
      if (typeof n !== "number" || Number.isNaN(n))
        throw new Error(`expected a number, got ${JSON.stringify(value)}`);
      return prim({ case: "floatValue", value: n });
    }
    case SimpleType.BOOLEAN: {
      const b = typeof value === "string" ? value.trim().toLowerCase() : value;
      if (b === true || b === "true") return prim({ case: "boolean", value: true });
      if (b === false || b === "false") return prim({ case: "boolean", value: false });
      throw new Error(`expected a boolean, got ${JSON.stringify(value)}`);
    }
    case SimpleType.DATETIME: {
      const d = new Date(String(value).trim());
      if (Number.isNaN(d.getTime())) throw new Error(`expected a datetime, got ${JSON.stringify(value)}`);
      return prim({ case: "datetime", value: timestampFromDate(d) });
    }
    case SimpleType.STRING:
      if (typeof value !== "string") throw new Error(`expected a string, got ${JSON.stringify(value)}`);
      return prim({ case: "stringValue", value });
    case SimpleType.NONE:
      return scalar({
        case: "scalar",
        value: {
          $typeName: "flyteidl.core.Scalar",
          value: { case: "noneType", value: { $typeName: "flyteidl.core.Void" } },
        },
      });
    default:
      if (typeof value === "string") return prim({ case: "stringValue", value });
      if (typeof value === "boolean") return prim({ case: "boolean", value });
      if (typeof value === "number")
        return Number.isInteger(value)
          ? prim({ case: "integer", value: BigInt(value) })
          : prim({ case: "floatValue", value });
      throw new Error(`cannot read ${JSON.stringify(value)} without a declared type`);
  }
}
