// The value checks message-guard.ts composes into per-type plans: NUL characters in strings (and in Struct and map
// keys), undeclared enum values, google.protobuf.Duration and Timestamp within protobuf's range, and unsigned
// integers within int32. A failed check returns a Fault whose path the enclosing checks extend, innermost first.
import type { DescEnum } from "@bufbuild/protobuf";

const INT32_MAX = 2_147_483_647;
/** protobuf's Duration range: ±10,000 years. */
const MAX_DURATION_SECONDS = 315_576_000_000n;
const MAX_NANOS = 999_999_999;
/** protobuf's Timestamp range: 0001-01-01T00:00:00Z to 9999-12-31T23:59:59.999999999Z. */
const MIN_TIMESTAMP_SECONDS = -62_135_596_800n;
const MAX_TIMESTAMP_SECONDS = 253_402_300_799n;

/** Where a check failed: path segments innermost first, and how to say what is wrong once the path is known. */
export class Fault {
  readonly path: string[] = [];
  constructor(readonly describe: (path: string) => string) {}
}

export type Check = (value: unknown) => Fault | undefined;

const NUL_TEXT = "must not contain a NUL character (U+0000)";
const nulFault = () => new Fault((p) => `${p} ${NUL_TEXT}`);

export const checkString: Check = (v) => ((v as string).indexOf("\0") === -1 ? undefined : nulFault());

function enumName(e: DescEnum): string {
  const pkg = e.file.proto.package;
  return pkg === "" ? e.typeName : e.typeName.slice(pkg.length + 1);
}

export function enumCheck(e: DescEnum): Check {
  const known = new Set(e.values.map((v) => v.number));
  const name = enumName(e);
  return (v) =>
    known.has(v as number)
      ? undefined
      : new Fault((p) => `invalid value for ${p}: ${String(v)} is not a known ${name}`);
}

export const int32Column: Check = (v) =>
  (v as number) <= INT32_MAX
    ? undefined
    : new Fault((p) => `invalid value for ${p}: ${String(v)} is out of range (at most ${INT32_MAX})`);

export const checkDuration: Check = (v) => {
  const d = v as { seconds: bigint; nanos: number };
  const s = d.seconds;
  const n = d.nanos;
  const ok =
    s <= MAX_DURATION_SECONDS &&
    s >= -MAX_DURATION_SECONDS &&
    n <= MAX_NANOS &&
    n >= -MAX_NANOS &&
    !(s > 0n && n < 0) &&
    !(s < 0n && n > 0);
  return ok
    ? undefined
    : new Fault(
        (p) =>
          `invalid value for ${p}: duration out of range (seconds within ±${MAX_DURATION_SECONDS}, ` +
          `nanos within ±${MAX_NANOS}, both of the same sign)`,
      );
};

export const checkTimestamp: Check = (v) => {
  const t = v as { seconds: bigint; nanos: number };
  const ok =
    t.seconds >= MIN_TIMESTAMP_SECONDS &&
    t.seconds <= MAX_TIMESTAMP_SECONDS &&
    t.nanos >= 0 &&
    t.nanos <= MAX_NANOS;
  return ok
    ? undefined
    : new Fault(
        (p) =>
          `invalid value for ${p}: timestamp out of range (0001-01-01T00:00:00Z to 9999-12-31T23:59:59.999999999Z)`,
      );
};

/** A google.protobuf.Struct held as a plain JSON object (how protobuf-es keeps Struct fields outside Value). */
export const checkJson: Check = (v) => {
  if (typeof v === "string") return checkString(v);
  if (v === null || typeof v !== "object") return undefined;
  if (Array.isArray(v)) return checkList(checkJson)(v);
  const o = v as Record<string, unknown>;
  for (const k of Object.keys(o)) {
    if (k.indexOf("\0") !== -1) return new Fault((p) => `keys of ${p} ${NUL_TEXT}`);
    const f = checkJson(o[k]);
    if (f !== undefined) {
      f.path.push(`[${JSON.stringify(k)}]`);
      return f;
    }
  }
  return undefined;
};

export function checkList(element: Check): Check {
  return (v) => {
    const a = v as readonly unknown[];
    for (let i = 0; i < a.length; i++) {
      const f = element(a[i]);
      if (f !== undefined) {
        f.path.push(`[${i}]`);
        return f;
      }
    }
    return undefined;
  };
}

export function checkMap(value: Check | undefined, stringKeys: boolean): Check {
  return (v) => {
    const o = v as Record<string, unknown>;
    for (const k of Object.keys(o)) {
      if (stringKeys && k.indexOf("\0") !== -1) return new Fault((p) => `keys of ${p} ${NUL_TEXT}`);
      const f = value?.(o[k]);
      if (f !== undefined) {
        f.path.push(`[${JSON.stringify(k)}]`);
        return f;
      }
    }
    return undefined;
  };
}
