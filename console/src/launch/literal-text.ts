// Launch-form values ↔ Flyte literals, by LiteralType: text for scalars, a URI for files and datasets, JSON for lists,
// maps and structs. Parsing throws an Error whose message says what is wrong (shown beside the field).
import { create, type JsonObject, type JsonValue, type MessageInitShape } from "@bufbuild/protobuf";
import { type Duration, timestampDate, timestampFromMs } from "@bufbuild/protobuf/wkt";
import {
  type Literal,
  LiteralSchema,
  type PrimitiveSchema,
  ScalarSchema,
} from "../../../gen/flyteidl/core/literals_pb.js";
import { type LiteralType, SimpleType } from "../../../gen/flyteidl/core/types_pb.js";
import { isNoneType } from "../ui/literal-type";

const INT64_MAX = 2n ** 63n - 1n;
const INT64_MIN = -(2n ** 63n);
const UNIT_SECONDS: Record<string, number> = { ns: 1e-9, us: 1e-6, ms: 1e-3, s: 1, m: 60, h: 3600, d: 86400 };

const scalar = (init: MessageInitShape<typeof ScalarSchema>): Literal =>
  create(LiteralSchema, { value: { case: "scalar", value: create(ScalarSchema, init) } });
const primitive = (value: MessageInitShape<typeof PrimitiveSchema>): Literal =>
  scalar({ value: { case: "primitive", value } });
const noneLiteral = (): Literal => scalar({ value: { case: "noneType", value: {} } });

function parseInteger(text: string): bigint {
  if (!/^[+-]?\d+$/.test(text.trim())) throw new Error("expected a whole number");
  const n = BigInt(text.trim());
  if (n > INT64_MAX || n < INT64_MIN) throw new Error("out of the 64-bit integer range");
  return n;
}

function parseFloat64(text: string): number {
  const n = Number(text.trim());
  if (text.trim() === "" || !Number.isFinite(n)) throw new Error("expected a number");
  return n;
}

/** "90", "1.5s", "1h30m", "250ms" (a bare number is seconds). */
export function parseDuration(text: string): Duration {
  const t = text.trim();
  let seconds = 0;
  if (/^[+]?\d+(\.\d+)?$/.test(t)) seconds = Number(t);
  else {
    const parts = [...t.matchAll(/(\d+(?:\.\d+)?)(ns|us|ms|s|m|h|d)/g)];
    if (parts.length === 0 || parts.map((p) => p[0]).join("") !== t) {
      throw new Error("expected a duration such as 90s, 1h30m or 250ms");
    }
    for (const [, n, unit] of parts) seconds += Number(n) * (UNIT_SECONDS[unit ?? "s"] ?? 1);
  }
  const whole = Math.floor(seconds);
  return {
    $typeName: "google.protobuf.Duration",
    seconds: BigInt(whole),
    nanos: Math.round((seconds - whole) * 1e9),
  };
}

function parseDatetime(text: string): number {
  const ms = Date.parse(text.trim());
  if (Number.isNaN(ms)) throw new Error("expected a date and time such as 2024-05-01T12:00:00Z");
  return ms;
}

function simpleFromText(simple: SimpleType, text: string): Literal {
  switch (simple) {
    case SimpleType.INTEGER:
      return primitive({ value: { case: "integer", value: parseInteger(text) } });
    case SimpleType.FLOAT:
      return primitive({ value: { case: "floatValue", value: parseFloat64(text) } });
    case SimpleType.STRING:
      return primitive({ value: { case: "stringValue", value: text } });
    case SimpleType.BOOLEAN: {
      const b = text.trim().toLowerCase();
      if (b !== "true" && b !== "false") throw new Error("expected true or false");
      return primitive({ value: { case: "boolean", value: b === "true" } });
    }
    case SimpleType.DATETIME:
      return primitive({ value: { case: "datetime", value: timestampFromMs(parseDatetime(text)) } });
    case SimpleType.DURATION:
      return primitive({ value: { case: "duration", value: parseDuration(text) } });
    case SimpleType.NONE:
      return noneLiteral();
    case SimpleType.STRUCT:
      return structLiteral(parseJson(text), "");
    default:
      throw new Error("this type cannot be entered in the console");
  }
}

function parseJson(text: string): JsonValue {
  try {
    return JSON.parse(text) as JsonValue;
  } catch (e) {
    throw new Error(`invalid JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
}

function uriLiteral(t: LiteralType, uri: string): Literal {
  const u = uri.trim();
  if (u === "") throw new Error("expected a URI such as s3://bucket/key or file:///path");
  switch (t.type.case) {
    case "blob":
      return scalar({ value: { case: "blob", value: { uri: u, metadata: { type: t.type.value } } } });
    case "structuredDatasetType":
      return scalar({
        value: {
          case: "structuredDataset",
          value: { uri: u, metadata: { structuredDatasetType: t.type.value } },
        },
      });
    default:
      return scalar({
        value: {
          case: "schema",
          value: { uri: u, ...(t.type.case === "schema" ? { type: t.type.value } : {}) },
        },
      });
  }
}

function unionOf(variants: LiteralType[], attempt: (v: LiteralType) => Literal, empty: boolean): Literal {
  const none = variants.find(isNoneType);
  if (empty && none !== undefined) {
    return scalar({ value: { case: "union", value: { value: noneLiteral(), type: none } } });
  }
  const problems: string[] = [];
  for (const v of variants) {
    if (isNoneType(v)) continue;
    try {
      return scalar({ value: { case: "union", value: { value: attempt(v), type: v } } });
    } catch (e) {
      problems.push(e instanceof Error ? e.message : String(e));
    }
  }
  throw new Error(
    problems.length === 1 ? (problems[0] as string) : `matches no variant (${problems.join("; ")})`,
  );
}

/** The literal a form field's text stands for. */
export function fromText(text: string, t: LiteralType): Literal {
  const v = t.type;
  switch (v.case) {
    case "simple":
      return simpleFromText(v.value, text);
    case "enumType":
      if (!v.value.values.includes(text)) throw new Error(`expected one of ${v.value.values.join(", ")}`);
      return primitive({ value: { case: "stringValue", value: text } });
    case "blob":
    case "structuredDatasetType":
    case "schema":
      return uriLiteral(t, text);
    case "collectionType":
    case "mapValueType":
      return fromJson(parseJson(text), t, "");
    case "unionType":
      return unionOf(v.value.variants, (variant) => fromText(text, variant), text.trim() === "");
    case undefined:
      throw new Error("this input has no type");
  }
}

function at(path: string, message: string): Error {
  return new Error(path === "" ? message : `${path}: ${message}`);
}

/** The JSON type a list item or map value of these simple types must have. */
const JSON_KINDS: Partial<Record<SimpleType, { type: "number" | "boolean" | "string"; expected: string }>> = {
  [SimpleType.FLOAT]: { type: "number", expected: "expected a number" },
  [SimpleType.BOOLEAN]: { type: "boolean", expected: "expected true or false" },
  [SimpleType.STRING]: { type: "string", expected: "expected a string" },
};

function structLiteral(value: JsonValue, path: string): Literal {
  if (value === null || typeof value !== "object" || Array.isArray(value))
    throw at(path, "expected a JSON object");
  return scalar({ value: { case: "generic", value: value as JsonObject } });
}

/** A JSON value as a literal of type `t` (`path` names the place in errors, e.g. `[2].name`). */
export function fromJson(value: JsonValue, t: LiteralType, path: string): Literal {
  const v = t.type;
  if (v.case === "collectionType") {
    if (!Array.isArray(value)) throw at(path, "expected a JSON list");
    const literals = value.map((item, i) => fromJson(item, v.value, `${path}[${i}]`));
    return create(LiteralSchema, { value: { case: "collection", value: { literals } } });
  }
  if (v.case === "mapValueType") {
    if (value === null || typeof value !== "object" || Array.isArray(value))
      throw at(path, "expected a JSON object");
    const literals: Record<string, Literal> = {};
    for (const [k, item] of Object.entries(value))
      literals[k] = fromJson(item, v.value, path === "" ? k : `${path}.${k}`);
    return create(LiteralSchema, { value: { case: "map", value: { literals } } });
  }
  if (v.case === "simple" && v.value === SimpleType.STRUCT) return structLiteral(value, path);
  if (v.case === "unionType")
    return unionOf(v.value.variants, (variant) => fromJson(value, variant, path), value === null);
  if (v.case === "simple" && v.value === SimpleType.NONE) {
    if (value !== null) throw at(path, "expected null");
    return noneLiteral();
  }
  const json = v.case === "simple" ? JSON_KINDS[v.value] : undefined;
  if (json !== undefined && typeof value !== json.type) throw at(path, json.expected);
  if (typeof value !== "string" && typeof value !== "number" && typeof value !== "boolean") {
    throw at(path, `expected a ${v.case === "simple" ? "plain value" : "string"}`);
  }
  try {
    return fromText(String(value), t);
  } catch (e) {
    throw at(path, e instanceof Error ? e.message : String(e));
  }
}

function durationText(d: Duration): string {
  return `${(Number(d.seconds) + d.nanos / 1e9).toString()}s`;
}

/** A literal as JSON (for list, map and struct defaults); undefined when it has no JSON form (binary). */
export function toJson(lit: Literal): JsonValue | undefined {
  const v = lit.value;
  if (v.case === "collection") return v.value.literals.map((l) => toJson(l) ?? null);
  if (v.case === "map") {
    return Object.fromEntries(Object.entries(v.value.literals).map(([k, l]) => [k, toJson(l) ?? null]));
  }
  if (v.case !== "scalar") return undefined;
  const s = v.value.value;
  switch (s.case) {
    case "primitive": {
      const p = s.value.value;
      if (p.case === "integer")
        return p.value >= -(2n ** 53n) && p.value <= 2n ** 53n ? Number(p.value) : p.value.toString();
      if (p.case === "datetime") return timestampDate(p.value).toISOString();
      if (p.case === "duration") return durationText(p.value);
      return p.value;
    }
    case "blob":
    case "schema":
    case "structuredDataset":
      return s.value.uri;
    case "generic":
      return s.value;
    case "noneType":
      return null;
    case "union":
      return s.value.value === undefined ? null : toJson(s.value.value);
    default:
      return undefined;
  }
}

/** A literal as the text of a form field of type `t`; undefined when it cannot be shown as text. */
export function toText(lit: Literal, t: LiteralType): string | undefined {
  const v = t.type;
  const s = lit.value.case === "scalar" ? lit.value.value.value : undefined;
  if (v.case === "unionType" && s?.case === "union") {
    const { value: inner, type: variant } = s.value;
    return inner === undefined || variant === undefined ? undefined : toText(inner, variant);
  }
  const json = toJson(lit);
  if (json === undefined) return undefined;
  if (json === null) return "";
  if (v.case === "collectionType" || v.case === "mapValueType") return JSON.stringify(json, null, 2);
  if (v.case === "simple" && v.value === SimpleType.STRUCT) return JSON.stringify(json, null, 2);
  return typeof json === "object" ? JSON.stringify(json) : String(json);
}
