// How deeply literals nest in a request: each Literal, BindingData or LiteralType inside another (a collection of
// collections, a map of maps, a union's value) is one level deeper. Very deep values cost recursion everywhere they
// are read later (compiler, engine, transformers), so a request is refused once they nest beyond the configured
// depth, naming where. Message types that cannot hold a literal are skipped without being walked.
import type { DescField, DescMessage, Message } from "@bufbuild/protobuf";
import { type ReflectMessage, reflect } from "@bufbuild/protobuf/reflect";
import { invalidArgument } from "../errors.js";

const LEVEL_TYPES: ReadonlySet<string> = new Set([
  "flyteidl.core.Literal",
  "flyteidl.core.BindingData",
  "flyteidl.core.LiteralType",
]);

const reaches = new Map<string, boolean>();

/** Whether a message of this type can hold a literal level at any depth (types being looked at count as no). */
function reachesLevel(desc: DescMessage, seen: Set<string>): boolean {
  const known = reaches.get(desc.typeName);
  if (known !== undefined) return known;
  if (LEVEL_TYPES.has(desc.typeName)) return true;
  if (seen.has(desc.typeName)) return false;
  seen.add(desc.typeName);
  const result = desc.fields.some((f) => {
    const m = messageOf(f);
    return m !== undefined && reachesLevel(m, seen);
  });
  // A "no" found while an enclosing type was still being looked at may be wrong for this type alone.
  if (result) reaches.set(desc.typeName, true);
  return result;
}

function canHoldLevels(desc: DescMessage): boolean {
  const result = reachesLevel(desc, new Set());
  reaches.set(desc.typeName, result);
  return result;
}

function messageOf(f: DescField): DescMessage | undefined {
  if (f.fieldKind === "message") return f.message;
  if (f.fieldKind === "list" && f.listKind === "message") return f.message;
  if (f.fieldKind === "map" && f.mapKind === "message") return f.message;
  return undefined;
}

class TooDeep extends Error {
  readonly path: string[] = [];
}

function walk(r: ReflectMessage, depth: number, max: number): void {
  const level = LEVEL_TYPES.has(r.desc.typeName) ? depth + 1 : depth;
  if (level > max) throw new TooDeep();
  for (const f of r.fields) {
    const m = messageOf(f);
    if (m === undefined || !canHoldLevels(m) || !r.isSet(f)) continue;
    try {
      if (f.fieldKind === "message") walk(r.get(f) as ReflectMessage, level, max);
      else if (f.fieldKind === "list") {
        let i = 0;
        for (const item of r.get(f)) {
          try {
            walk(item as ReflectMessage, level, max);
          } catch (err) {
            if (err instanceof TooDeep) err.path.push(`[${i}]`);
            throw err;
          }
          i++;
        }
      } else if (f.fieldKind === "map") {
        for (const [k, v] of r.get(f)) {
          try {
            walk(v as ReflectMessage, level, max);
          } catch (err) {
            if (err instanceof TooDeep) err.path.push(`[${JSON.stringify(String(k))}]`);
            throw err;
          }
        }
      }
    } catch (err) {
      if (err instanceof TooDeep) err.path.push(`.${f.name}`);
      throw err;
    }
  }
}

/** Throws INVALID_ARGUMENT naming the place where literals in `message` nest more than `max` levels deep. */
export function checkLiteralDepth(desc: DescMessage, message: Message, max: number): void {
  if (!canHoldLevels(desc)) return;
  try {
    walk(reflect(desc, message), 0, max);
  } catch (err) {
    if (!(err instanceof TooDeep)) throw err;
    const where = err.path.reverse().join("").replace(/^\./, "");
    throw invalidArgument(`literals nest more than ${max} levels deep (at ${where})`);
  }
}
