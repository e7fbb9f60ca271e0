// Walking a request by its protobuf-es descriptor: the field paths of a request (into set sub-messages, list elements
// and map values, and a little way into unset sub-messages), reading and setting the value at a path, and a copy of
// the request with one path set to another value.
import { clone, create, type DescField, type DescMessage, type Message } from "@bufbuild/protobuf";
import { isWrapperDesc } from "@bufbuild/protobuf/wkt";

/** One step down a request: a field, or an element of a list field, or a value of a map field. */
export interface Step {
  readonly field: DescField;
  readonly index?: number;
  readonly key?: string;
}
export type FieldPath = readonly Step[];

export function pathText(path: FieldPath): string {
  return path
    .map((s, i) => {
      const sub =
        s.index !== undefined ? `[${s.index}]` : s.key !== undefined ? `[${JSON.stringify(s.key)}]` : "";
      return `${i === 0 ? "" : "."}${s.field.name}${sub}`;
    })
    .join("");
}

/** Well-known types mutated as a whole, not field by field. */
export function isLeafMessage(desc: DescMessage): boolean {
  return (
    isWrapperDesc(desc) ||
    desc.typeName === "google.protobuf.Timestamp" ||
    desc.typeName === "google.protobuf.Duration" ||
    desc.typeName === "google.protobuf.Struct" ||
    desc.typeName === "google.protobuf.Any"
  );
}

/** Whether a field holds its message as protobuf-es's plain representation (a bare wrapper value or JSON). */
export function plainMessage(field: DescField, desc: DescMessage): "wrapper" | "json" | undefined {
  if (field.fieldKind !== "message" || field.oneof !== undefined) {
    return undefined;
  }
  if (isWrapperDesc(desc)) return "wrapper";
  if (desc.typeName === "google.protobuf.Struct" && field.parent.typeName !== "google.protobuf.Value")
    return "json";
  return undefined;
}

/** A field of `desc` that leads back to `desc` within a few steps (for deeply nested values), or undefined. */
export function recursionPath(desc: DescMessage, maxHops = 4): DescField[] | undefined {
  const queue: { at: DescMessage; path: DescField[] }[] = [{ at: desc, path: [] }];
  while (queue.length > 0) {
    const { at, path } = queue.shift() as { at: DescMessage; path: DescField[] };
    if (path.length >= maxHops) continue;
    for (const f of at.fields) {
      const next =
        f.fieldKind === "message" || (f.fieldKind === "list" && f.listKind === "message")
          ? f.message
          : undefined;
      if (next === undefined || isLeafMessage(next)) continue;
      if (next.typeName === desc.typeName) return [...path, f];
      if (!path.some((p) => p.message?.typeName === next.typeName))
        queue.push({ at: next, path: [...path, f] });
    }
  }
  return undefined;
}

/** A new `desc` holding `inner` at the end of `path` (a recursion path of `desc`). */
function wrap(desc: DescMessage, path: readonly DescField[], inner: Message): Message {
  const outer = create(desc);
  let at: Message = outer;
  path.forEach((f, k) => {
    const value = k === path.length - 1 ? inner : create(f.message as DescMessage);
    setChild(at, { field: f, ...(f.fieldKind === "list" ? { index: 0 } : {}) }, value);
    at = value;
  });
  return outer;
}

/** `value` (an empty `desc` by default) nested `depth` levels deep through `path`. */
export function nested(
  desc: DescMessage,
  path: readonly DescField[],
  depth: number,
  value?: Message,
): Message {
  let inner = value ?? create(desc);
  for (let i = 0; i < depth; i++) inner = wrap(desc, path, inner);
  return inner;
}

export function getChild(message: unknown, step: Step): unknown {
  if (message === undefined || message === null) return undefined;
  const m = message as Record<string, unknown>;
  const f = step.field;
  let v: unknown;
  if (f.oneof !== undefined) {
    const o = m[f.oneof.localName] as { case?: string; value?: unknown } | undefined;
    v = o?.case === f.localName ? o.value : undefined;
  } else v = m[f.localName];
  if (step.index !== undefined) return (v as unknown[] | undefined)?.[step.index];
  if (step.key !== undefined) return (v as Record<string, unknown> | undefined)?.[step.key];
  return v;
}

export function setChild(message: unknown, step: Step, value: unknown): void {
  const m = message as Record<string, unknown>;
  const f = step.field;
  if (step.index !== undefined) {
    const list = (m[f.localName] as unknown[] | undefined) ?? [];
    list[step.index] = value;
    m[f.localName] = list;
  } else if (step.key !== undefined) {
    const map = (m[f.localName] as Record<string, unknown> | undefined) ?? {};
    map[step.key] = value;
    m[f.localName] = map;
  } else if (f.oneof !== undefined) {
    m[f.oneof.localName] = value === undefined ? { case: undefined } : { case: f.localName, value };
  } else m[f.localName] = value;
}

/** A copy of `base` with the place `path` names set to `value` (sub-messages on the way are created). */
export function mutate(desc: DescMessage, base: Message, path: FieldPath, value: unknown): Message {
  const copy = clone(desc, base);
  let at: unknown = copy;
  path.forEach((step, i) => {
    if (i === path.length - 1) {
      setChild(at, step, value);
      return;
    }
    let child = getChild(at, step);
    if (child === undefined) {
      child = create(step.field.message as DescMessage);
      setChild(at, step, child);
    }
    at = child;
  });
  return copy;
}

export function valueAt(base: Message, path: FieldPath): unknown {
  let at: unknown = base;
  for (const step of path) at = getChild(at, step);
  return at;
}

/** Whether a value is more than its type's default (a zero, an empty text, list or map, an unset message). */
function isPresent(v: unknown): boolean {
  if (v === undefined || v === null || v === "" || v === 0 || v === 0n || v === false) return false;
  if (Array.isArray(v) || v instanceof Uint8Array) return v.length > 0;
  if (typeof v === "object") return Object.keys(v).some((k) => k !== "$typeName") || "$typeName" in v;
  return true;
}

export interface WalkLimits {
  /** How deep paths go below the request through fields the base request sets. */
  readonly maxDepth: number;
  /** How many levels paths go into sub-messages the base request leaves unset. */
  readonly unsetDepth: number;
  /** How many elements of a list (entries of a map) paths go into. */
  readonly elements: number;
}

/** The field paths of a request: every field, into set sub-messages, list elements and map values, and a little
 * way into unset sub-messages. `set` tells whether the base request holds something at the path. */
export function fieldPaths(
  desc: DescMessage,
  base: Message,
  limits: WalkLimits = { maxDepth: 8, unsetDepth: 2, elements: 3 },
): { path: FieldPath; set: boolean }[] {
  const out: { path: FieldPath; set: boolean }[] = [];
  const walk = (
    d: DescMessage,
    value: unknown,
    prefix: FieldPath,
    unsetLeft: number,
    seen: readonly string[],
  ) => {
    for (const f of d.fields) {
      const step: Step = { field: f };
      const path = [...prefix, step];
      const v = getChild(value, step);
      const isSet = isPresent(v);
      out.push({ path, set: isSet });
      if (path.length >= limits.maxDepth) continue;
      if (
        f.fieldKind === "message" &&
        plainMessage(f, f.message) === undefined &&
        !isLeafMessage(f.message)
      ) {
        if (isSet) walk(f.message, v, path, unsetLeft, [...seen, f.message.typeName]);
        else if (unsetLeft > 0 && !seen.includes(f.message.typeName))
          walk(f.message, undefined, path, unsetLeft - 1, [...seen, f.message.typeName]);
      }
      if (f.fieldKind === "list" && isSet) {
        (v as unknown[]).slice(0, limits.elements).forEach((element, index) => {
          const elementPath = [...prefix, { field: f, index }];
          out.push({ path: elementPath, set: true });
          if (f.listKind === "message" && !isLeafMessage(f.message))
            walk(f.message, element, elementPath, unsetLeft, [...seen, f.message.typeName]);
        });
      }
      if (f.fieldKind === "map" && isSet) {
        for (const key of Object.keys(v as object).slice(0, limits.elements)) {
          const valuePath = [...prefix, { field: f, key }];
          out.push({ path: valuePath, set: true });
          if (f.mapKind === "message" && !isLeafMessage(f.message))
            walk(f.message, (v as Record<string, unknown>)[key], valuePath, unsetLeft, [
              ...seen,
              f.message.typeName,
            ]);
        }
      }
    }
  };
  walk(desc, base, [], limits.unsetDepth, [desc.typeName]);
  return out;
}
