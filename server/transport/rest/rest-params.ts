// Path templates and query parameters → the JSON form of a request message, as grpc-gateway reads them: dotted
// field paths (proto or JSON names), one path segment per variable, enums by name or number, repeated fields by
// repeating the parameter; parameters naming no field are ignored.
import {
  type DescField,
  type DescMessage,
  type JsonObject,
  type JsonValue,
  ScalarType,
} from "@bufbuild/protobuf";

export interface PathTemplate {
  /** Literal segments as strings, variables as dotted field paths. */
  readonly segments: ReadonlyArray<string | { readonly field: string }>;
}

export function parseTemplate(path: string): PathTemplate {
  const segments = path
    .split("/")
    .slice(1)
    .map((s) => (s.startsWith("{") && s.endsWith("}") ? { field: s.slice(1, -1) } : s));
  return { segments };
}

/** The variables of a matching path (decoded), or undefined when the path does not match. */
export function matchTemplate(
  t: PathTemplate,
  parts: readonly string[],
): Array<[field: string, value: string]> | undefined {
  if (parts.length !== t.segments.length) return undefined;
  const vars: Array<[string, string]> = [];
  for (let i = 0; i < parts.length; i++) {
    const seg = t.segments[i];
    const part = parts[i] ?? "";
    if (seg === undefined) return undefined;
    if (typeof seg === "string") {
      if (seg !== part) return undefined;
    } else {
      if (part === "") return undefined;
      vars.push([seg.field, part]);
    }
  }
  return vars;
}

/** Thrown for a parameter that names a field but cannot be its value. */
export class ParamError extends Error {}

const findField = (m: DescMessage, name: string): DescField | undefined =>
  m.fields.find((f) => f.name === name) ?? m.fields.find((f) => f.jsonName === name);

function enumValue(field: DescField, text: string): JsonValue {
  if (/^-?\d+$/.test(text)) return Number(text);
  const e = field.enum;
  if (e?.values.some((v) => v.name === text)) return text;
  throw new ParamError(`invalid value for enum field ${field.name}: "${text}"`);
}

function scalarValue(field: DescField, text: string): JsonValue {
  if (field.fieldKind === "enum" || (field.fieldKind === "list" && field.listKind === "enum"))
    return enumValue(field, text);
  const scalar =
    field.fieldKind === "scalar" ? field.scalar : field.fieldKind === "list" ? field.scalar : undefined;
  if (scalar === ScalarType.BOOL) {
    if (text === "true" || text === "false") return text === "true";
    throw new ParamError(`invalid value for bool field ${field.name}: "${text}"`);
  }
  // Strings, numbers (quoted numbers are valid JSON for every numeric type), bytes (base64) and well-known
  // message types with a string form (Timestamp, Duration, wrappers) all read from the text as it is.
  return text;
}

/**
 * Sets `value` at a dotted field path in a JSON object for message `m`, keyed by proto field names. A repeated
 * field collects every value; a path that names no field is ignored (false).
 */
export function setParam(m: DescMessage, obj: JsonObject, path: string, value: string): boolean {
  const names = path.split(".");
  let msg = m;
  let target = obj;
  for (let i = 0; i < names.length; i++) {
    const field = findField(msg, names[i] ?? "");
    if (field === undefined) return false;
    if (i === names.length - 1) {
      if (field.fieldKind === "map") return false;
      if (field.fieldKind === "list") {
        const list = (target[field.name] as JsonValue[] | undefined) ?? [];
        list.push(scalarValue(field, value));
        target[field.name] = list;
      } else {
        target[field.name] = scalarValue(field, value);
      }
      return true;
    }
    if (field.fieldKind !== "message") return false;
    const next = (target[field.name] as JsonObject | undefined) ?? {};
    target[field.name] = next;
    target = next;
    msg = field.message;
  }
  return false;
}

/** The JSON form of path variables and (for rpcs without a body) query parameters not already set by the path. */
export function paramsToJson(
  m: DescMessage,
  pathVars: ReadonlyArray<readonly [string, string]>,
  query: URLSearchParams | undefined,
): JsonObject {
  const obj: JsonObject = {};
  for (const [field, value] of pathVars) setParam(m, obj, field, value);
  if (query !== undefined) {
    const fromPath = new Set(pathVars.map(([f]) => f));
    for (const [key, value] of query) if (!fromPath.has(key)) setParam(m, obj, key, value);
  }
  return obj;
}
