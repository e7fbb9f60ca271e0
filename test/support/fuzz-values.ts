// Hostile values for each kind of protobuf field: strings (empty, 100 KB, control characters, NUL, lone surrogates,
// traversal, SQL and filter text), integers at their limits, NaN and infinities, undeclared enum numbers, missing and
// empty messages, values nested 1,000 deep, 10,000-element lists and maps, Durations and Timestamps at and past
// protobuf's range, odd Structs and Anys. Every value is made when used, the same for the same seed.
import {
  clone,
  create,
  type DescField,
  type DescMessage,
  type Message,
  ScalarType,
} from "@bufbuild/protobuf";
import { type FieldPath, nested, plainMessage, recursionPath, type Step } from "./fuzz-paths.js";

/** mulberry32: a small, fast PRNG with a 32-bit state; the same seed gives the same run. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A hostile value, made when it is used (some are 100 KB or 10,000 elements). */
export interface Hostile {
  readonly label: string;
  readonly make: () => unknown;
}

const HUGE = 100_000;
const MANY = 10_000;
const DEEP = 1_000;

/** Text that does not compress (Postgres compresses long values, even in index entries); no digits, capitals,
 * dots or slashes, so an echo of it cannot look like a SQLSTATE or a path. */
function randomText(n: number, seed: number): string {
  const alphabet = "abcdefghijklmnopqrstuvwxyz!#%&*+,-;<=>?@^_|~";
  const random = prng(seed);
  let out = "";
  for (let i = 0; i < n; i++) out += alphabet[Math.floor(random() * alphabet.length)];
  return out;
}

export const HOSTILE_STRINGS: readonly Hostile[] = [
  { label: "empty", make: () => "" },
  { label: "huge-ascii", make: () => "x".repeat(HUGE) },
  { label: "huge-unicode", make: () => "é".repeat(HUGE / 2) },
  { label: "huge-random", make: () => randomText(HUGE, 11) },
  { label: "256-chars", make: () => "a".repeat(256) },
  { label: "control-chars", make: () => "a\u0001\u0007\b\t\n\r\u001b[31m\u007f\u0085z" },
  { label: "nul", make: () => "a\u0000b" },
  { label: "lone-surrogates", make: () => "a\ud800b\udfffc" },
  { label: "unicode", make: () => "ünï©ødé 🚀 \u202e\u200b İ ß ﷽" },
  { label: "path-traversal", make: () => "../../etc/passwd" },
  { label: "encoded-traversal", make: () => "..%2F..%2Fetc%2Fpasswd%00" },
  { label: "sql", make: () => "x' OR '1'='1'; DROP TABLE executions; --" },
  { label: "like-wildcards", make: () => "%_\\%\\" },
  { label: "filter-text", make: () => "eq(name,x)+ne(phase,1" },
  { label: "template", make: () => "{{.inputs.s}} $(id) `id`" },
  { label: "whitespace", make: () => " \t " },
  { label: "numeric", make: () => "-9223372036854775809" },
  { label: "flyte-url", make: () => "flyte://v1/../../x/%00/i/../o" },
];

const INT32: readonly Hostile[] = [0, -1, 2_147_483_647, -2_147_483_648].map((n) => ({
  label: String(n),
  make: () => n,
}));
const UINT32: readonly Hostile[] = [0, 1, 2_147_483_648, 4_294_967_295].map((n) => ({
  label: String(n),
  make: () => n,
}));
const INT64_VALUES = [0n, -1n, 2n ** 63n - 1n, -(2n ** 63n), 2n ** 53n + 1n];
const UINT64_VALUES = [0n, 2n ** 64n - 1n, 2n ** 63n];
const FLOATS: readonly Hostile[] = [
  Number.NaN,
  Number.POSITIVE_INFINITY,
  Number.NEGATIVE_INFINITY,
  -0,
  1e308,
  -1,
  5e-324,
].map((n) => ({ label: String(n), make: () => n }));

function int64s(values: readonly bigint[], asString: boolean): Hostile[] {
  return values.map((n) => ({ label: `${n}n`, make: () => (asString ? n.toString() : n) }));
}

function bytes(n: number, seed: number): Uint8Array {
  const random = prng(seed);
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.floor(random() * 256);
  return out;
}
const BYTES: readonly Hostile[] = [
  { label: "empty", make: () => new Uint8Array(0) },
  { label: "huge-random", make: () => bytes(HUGE, 7) },
  { label: "not-protobuf", make: () => new Uint8Array([0xff, 0xff, 0xff, 0xff, 0x0f, 0x08]) },
];

function scalarHostiles(scalar: ScalarType, longAsString: boolean): readonly Hostile[] {
  switch (scalar) {
    case ScalarType.STRING:
      return HOSTILE_STRINGS;
    case ScalarType.BOOL:
      return [
        { label: "true", make: () => true },
        { label: "false", make: () => false },
      ];
    case ScalarType.BYTES:
      return BYTES;
    case ScalarType.DOUBLE:
    case ScalarType.FLOAT:
      return FLOATS;
    case ScalarType.INT32:
    case ScalarType.SINT32:
    case ScalarType.SFIXED32:
      return INT32;
    case ScalarType.UINT32:
    case ScalarType.FIXED32:
      return UINT32;
    case ScalarType.INT64:
    case ScalarType.SINT64:
    case ScalarType.SFIXED64:
      return int64s(INT64_VALUES, longAsString);
    case ScalarType.UINT64:
    case ScalarType.FIXED64:
      return int64s(UINT64_VALUES, longAsString);
  }
}

/** A short valid value of a scalar type, for huge lists and maps. */
function scalarFiller(scalar: ScalarType, longAsString: boolean): unknown {
  switch (scalar) {
    case ScalarType.STRING:
      return "x";
    case ScalarType.BOOL:
      return true;
    case ScalarType.BYTES:
      return new Uint8Array([1]);
    case ScalarType.INT64:
    case ScalarType.SINT64:
    case ScalarType.SFIXED64:
    case ScalarType.UINT64:
    case ScalarType.FIXED64:
      return longAsString ? "1" : 1n;
    default:
      return 1;
  }
}

function enumHostiles(field: DescField & { enum: NonNullable<DescField["enum"]> }): Hostile[] {
  const numbers = field.enum.values.map((v) => v.number);
  const next = Math.max(...numbers) + 1;
  return [
    { label: "undeclared-99", make: () => 99 },
    { label: "negative", make: () => -1 },
    { label: "int32-max", make: () => 2_147_483_647 },
    { label: `max-declared+1 (${next})`, make: () => next },
  ];
}

const INT64_MAX = 2n ** 63n - 1n;
const TIMESTAMPS: readonly [string, bigint, number][] = [
  ["epoch", 0n, 0],
  ["min 0001-01-01", -62_135_596_800n, 0],
  ["max 9999-12-31", 253_402_300_799n, 999_999_999],
  ["past max", 253_402_300_800n, 0],
  ["before min", -62_135_596_801n, 0],
  ["int64-max seconds", INT64_MAX, 0],
  ["negative nanos", 1n, -1],
  ["nanos 1e9", 1n, 1_000_000_000],
];
const DURATIONS: readonly [string, bigint, number][] = [
  ["zero", 0n, 0],
  ["negative", -1n, 0],
  ["max 10000y", 315_576_000_000n, 999_999_999],
  ["min -10000y", -315_576_000_000n, -999_999_999],
  ["past max", 315_576_000_001n, 0],
  ["int64-max seconds", INT64_MAX, 0],
  ["mixed signs", 1n, -1],
  ["nanos 1e9", 0n, 1_000_000_000],
];

function secondsNanos(desc: DescMessage, rows: readonly [string, bigint, number][]): Hostile[] {
  return rows.map(([label, seconds, nanos]) => ({ label, make: () => create(desc, { seconds, nanos }) }));
}

function deepJson(depth: number): Record<string, unknown> {
  let v: Record<string, unknown> = { leaf: "x" };
  for (let i = 0; i < depth; i++) v = { a: v };
  return v;
}
const STRUCTS: readonly Hostile[] = [
  { label: "empty", make: () => ({}) },
  { label: `nested-${DEEP}`, make: () => deepJson(DEEP) },
  {
    label: `${MANY}-keys`,
    make: () => Object.fromEntries(Array.from({ length: MANY }, (_, i) => [`k${i}`, i])),
  },
  { label: "nul-key", make: () => ({ "a\u0000": 1 }) },
  { label: "odd-values", make: () => ({ n: Number.NaN, i: Number.POSITIVE_INFINITY, s: "x".repeat(HUGE) }) },
];

function anyHostiles(desc: DescMessage): Hostile[] {
  return [
    {
      label: "traversal-type-url",
      make: () => create(desc, { typeUrl: "type.googleapis.com/../../etc", value: bytes(64, 3) }),
    },
    {
      label: "unknown-type-url",
      make: () => create(desc, { typeUrl: "type.googleapis.com/flyteidl.core.Literal", value: bytes(64, 4) }),
    },
  ];
}

function messageHostiles(field: DescField, desc: DescMessage, base: unknown): Hostile[] {
  const plain = plainMessage(field, desc);
  if (plain === "wrapper") {
    const value = desc.fields[0] as DescField & { scalar: ScalarType };
    return [{ label: "missing", make: () => undefined }, ...scalarHostiles(value.scalar, false)];
  }
  if (plain === "json") return [{ label: "missing", make: () => undefined }, ...STRUCTS];
  const out: Hostile[] = [
    { label: "missing", make: () => undefined },
    { label: "empty", make: () => create(desc) },
  ];
  switch (desc.typeName) {
    case "google.protobuf.Timestamp":
      return [...out, ...secondsNanos(desc, TIMESTAMPS)];
    case "google.protobuf.Duration":
      return [...out, ...secondsNanos(desc, DURATIONS)];
    case "google.protobuf.Any":
      return [...out, ...anyHostiles(desc)];
  }
  const cycle = recursionPath(desc);
  if (cycle !== undefined) {
    out.push({ label: `nested-${DEEP}`, make: () => nested(desc, cycle, DEEP) });
    if (base !== undefined) {
      // The base value wrapped in 50 levels: deep, but meaningful all the way down.
      out.push({
        label: "base-nested-50",
        make: () => nested(desc, cycle, 50, clone(desc, base as Message)),
      });
    }
  }
  return out;
}

function elementFiller(field: DescField, base: readonly unknown[] | undefined): () => unknown {
  if (field.fieldKind === "list") {
    if (field.listKind === "scalar") return () => scalarFiller(field.scalar, field.longAsString);
    if (field.listKind === "enum") return () => field.enum.values[0]?.number ?? 0;
    const first = base?.[0];
    return first === undefined ? () => create(field.message) : () => clone(field.message, first as Message);
  }
  if (field.fieldKind === "map") {
    if (field.mapKind === "scalar") return () => scalarFiller(field.scalar, false);
    if (field.mapKind === "enum") return () => field.enum.values[0]?.number ?? 0;
    const first = base?.[0];
    return first === undefined ? () => create(field.message) : () => clone(field.message, first as Message);
  }
  return () => undefined;
}

function listHostiles(field: DescField, base: readonly unknown[] | undefined): Hostile[] {
  const fill = elementFiller(field, base);
  const out: Hostile[] = [
    { label: "empty", make: () => [] },
    { label: `${MANY}-elements`, make: () => Array.from({ length: MANY }, fill) },
  ];
  if (field.fieldKind === "list" && field.listKind === "message") {
    out.push({ label: "plus-empty-element", make: () => [...(base ?? []), create(field.message)] });
  }
  return out;
}

function mapHostiles(field: DescField, base: Record<string, unknown> | undefined): Hostile[] {
  if (field.fieldKind !== "map") return [];
  const values = base === undefined ? [] : Object.values(base);
  const fill = elementFiller(field, values);
  const out: Hostile[] = [
    { label: "empty", make: () => ({}) },
    {
      label: `${MANY}-entries`,
      make: () => Object.fromEntries(Array.from({ length: MANY }, (_, i) => [`k${i}`, fill()])),
    },
  ];
  if (field.mapKey === ScalarType.STRING) {
    for (const h of HOSTILE_STRINGS.filter((s) =>
      ["empty", "huge-ascii", "nul", "path-traversal", "sql", "unicode", "control-chars"].includes(s.label),
    )) {
      out.push({ label: `key:${h.label}`, make: () => ({ ...(base ?? {}), [h.make() as string]: fill() }) });
    }
  }
  return out;
}

/** The hostile values for the place `path` names in a request whose current value there is `current`. */
export function hostilesFor(path: FieldPath, current: unknown): Hostile[] {
  const step = path[path.length - 1] as Step;
  const f = step.field;
  const element = step.index !== undefined || step.key !== undefined;
  if (element) {
    if (f.fieldKind === "list") {
      if (f.listKind === "scalar") return [...scalarHostiles(f.scalar, f.longAsString)];
      if (f.listKind === "enum") return enumHostiles(f as never);
      return messageHostiles(f, f.message, current).filter((h) => h.label !== "missing");
    }
    if (f.fieldKind === "map") {
      if (f.mapKind === "scalar") return [...scalarHostiles(f.scalar, false)];
      if (f.mapKind === "enum") return enumHostiles(f as never);
      return messageHostiles(f, f.message, current).filter((h) => h.label !== "missing");
    }
  }
  switch (f.fieldKind) {
    case "scalar":
      return [...scalarHostiles(f.scalar, f.longAsString)];
    case "enum":
      return enumHostiles(f);
    case "message":
      return messageHostiles(f, f.message, current);
    case "list":
      return listHostiles(f, current as unknown[] | undefined);
    case "map":
      return mapHostiles(f, current as Record<string, unknown> | undefined);
  }
}
