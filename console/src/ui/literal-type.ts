// Flyte LiteralTypes in words ("list<integer>", "file (csv)") for interfaces and form labels.
import {
  BlobType_BlobDimensionality,
  type LiteralType,
  SimpleType,
} from "../../../gen/flyteidl/core/types_pb.js";

const SIMPLE: Record<number, string> = {
  [SimpleType.NONE]: "none",
  [SimpleType.INTEGER]: "integer",
  [SimpleType.FLOAT]: "float",
  [SimpleType.STRING]: "string",
  [SimpleType.BOOLEAN]: "boolean",
  [SimpleType.DATETIME]: "datetime",
  [SimpleType.DURATION]: "duration",
  [SimpleType.BINARY]: "binary",
  [SimpleType.ERROR]: "error",
  [SimpleType.STRUCT]: "struct",
};

/** A LiteralType as a short readable name. */
export function typeLabel(t: LiteralType | undefined): string {
  if (t === undefined) return "unknown";
  const v = t.type;
  switch (v.case) {
    case "simple": {
      const name = SIMPLE[v.value] ?? `simple(${v.value})`;
      const tag = t.structure?.tag;
      return v.value === SimpleType.STRUCT && tag ? `struct ${tag}` : name;
    }
    case "collectionType":
      return `list<${typeLabel(v.value)}>`;
    case "mapValueType":
      return `map<string, ${typeLabel(v.value)}>`;
    case "blob": {
      const kind = v.value.dimensionality === BlobType_BlobDimensionality.MULTIPART ? "directory" : "file";
      return v.value.format ? `${kind} (${v.value.format})` : kind;
    }
    case "enumType":
      return `enum {${v.value.values.join(", ")}}`;
    case "structuredDatasetType":
      return v.value.format ? `dataset (${v.value.format})` : "dataset";
    case "schema":
      return "schema";
    case "unionType":
      return v.value.variants.map(typeLabel).join(" | ");
    case undefined:
      return "unknown";
  }
}

/** Whether a type is the none type (a variant of Optional[...] unions). */
export function isNoneType(t: LiteralType): boolean {
  return t.type.case === "simple" && t.type.value === SimpleType.NONE;
}
