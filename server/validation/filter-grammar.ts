// Flyte's list filter grammar: `fn(field,value)` expressions joined by `+` (AND only), `;` separating the values
// of value_in / value_not_in, and fields optionally prefixed by an entity (`workflow.name`).
import { invalidArgument } from "../errors.js";

export const FILTER_OPS = [
  "eq",
  "ne",
  "gt",
  "gte",
  "lt",
  "lte",
  "contains",
  "not_like",
  "value_in",
  "value_not_in",
] as const;
export type FilterOp = (typeof FILTER_OPS)[number];

export interface Filter {
  /** Short entity code (t, w, l, e, ne, te, nen, nem, p, s, at, et). */
  readonly entity: string;
  readonly column: string;
  readonly op: FilterOp;
  readonly values: readonly string[];
}

/** Entity prefixes clients write, and the short codes Flyte names them by in errors. */
export const ENTITY_CODES: Readonly<Record<string, string>> = {
  task: "t",
  workflow: "w",
  launch_plan: "l",
  execution: "e",
  node_execution: "ne",
  task_execution: "te",
  entities: "nen",
  named_entity_metadata: "nem",
  project: "p",
  signal: "s",
  admin_tag: "at",
  execution_tag: "et",
};

/** What a list accepts: its primary entity and, per entity code, the filterable column names. */
export interface FilterScope {
  readonly primary: string;
  readonly columns: Readonly<Record<string, ReadonlySet<string>>>;
}

/** Longer filter strings are refused before they are parsed (they would only make slow SQL). */
export const MAX_FILTERS_LENGTH = 32_768;

function isOp(fn: string): fn is FilterOp {
  return (FILTER_OPS as readonly string[]).includes(fn);
}

const WHITESPACE = /^\s$/;

/**
 * Splits `fn(field,value)` exactly as Flyte's greedy `^(.+)\((.+),\s?(.+)\)$` does, in linear time: the value ends
 * at the final `)`, the field at the last comma that leaves a value, and the function at the last `(` that leaves
 * a field. One optional whitespace character after that comma is dropped.
 */
export function splitExpression(expr: string): [fn: string, field: string, value: string] | undefined {
  const end = expr.length - 1;
  if (end < 0 || expr[end] !== ")") return undefined;
  const comma = expr.lastIndexOf(",", end - 2);
  if (comma < 3) return undefined;
  const open = expr.lastIndexOf("(", comma - 2);
  if (open < 1) return undefined;
  const space = comma + 2 < end && WHITESPACE.test(expr[comma + 1] ?? "") ? 1 : 0;
  return [expr.slice(0, open), expr.slice(open + 1, comma), expr.slice(comma + 1 + space, end)];
}

/** A value as an error message shows it: long ones are cut. */
export function shown(value: string): string {
  return value.length > 100 ? `${value.slice(0, 100)}…` : value;
}

function parseExpression(expr: string, scope: FilterScope): Filter {
  const parts = splitExpression(expr);
  if (parts === undefined) throw invalidArgument("invalid value for filters");
  const [fn, field, value] = parts;
  if (!isOp(fn)) throw invalidArgument(`unrecognized filter function: ${shown(fn)}`);
  let entity = scope.primary;
  let column = field;
  const dot = field.indexOf(".");
  if (dot > 0) {
    const code = ENTITY_CODES[field.slice(0, dot)];
    if (code !== undefined) {
      entity = code;
      column = field.slice(dot + 1);
    }
  }
  const allowed = scope.columns[entity];
  if (allowed === undefined) throw invalidArgument(`'${shown(entity)}' entity is not allowed in filters`);
  if (!allowed.has(column)) throw invalidArgument(`'${entity}.${shown(column)}' is invalid filter`);
  const values = fn === "value_in" || fn === "value_not_in" ? value.split(";") : [value];
  return { entity, column, op: fn, values };
}

/** Parses a filter string; the empty string means no filters. */
export function parseFilters(raw: string, scope: FilterScope): Filter[] {
  if (raw.length > MAX_FILTERS_LENGTH) {
    throw invalidArgument(`invalid value for filters: longer than ${MAX_FILTERS_LENGTH} characters`);
  }
  if (raw.includes("\0")) throw invalidArgument("invalid value for filters: contains a NUL character");
  if (raw.trim() === "") return [];
  return raw.split("+").map((expr) => parseExpression(expr.trim(), scope));
}

const GO_UNIT_SECONDS: Readonly<Record<string, number>> = {
  ns: 1e-9,
  us: 1e-6,
  µs: 1e-6,
  ms: 1e-3,
  s: 1,
  m: 60,
  h: 3600,
};

const isDigit = (c: string | undefined) => c !== undefined && c >= "0" && c <= "9";

/** The end of a number (`[0-9]*\.?[0-9]+`) starting at `i`, or -1 when there is none. */
function numberEnd(v: string, i: number): number {
  let j = i;
  while (isDigit(v[j])) j++;
  if (v[j] !== ".") return j > i ? j : -1;
  const fraction = j + 1;
  let k = fraction;
  while (isDigit(v[k])) k++;
  if (k > fraction) return k;
  return j > i ? j : -1;
}

/** The unit at `i` (the longest of ns, us, µs, ms, s, m, h), or undefined. */
function unitAt(v: string, i: number): string | undefined {
  const two = v.slice(i, i + 2);
  if (two === "ns" || two === "us" || two === "µs" || two === "ms") return two;
  const one = v[i];
  return one === "s" || one === "m" || one === "h" ? one : undefined;
}

/** Seconds of a Go duration (`1h30m`, `250ms`), or undefined when `v` is not one. */
function goDurationSeconds(v: string): number | undefined {
  if (v === "") return undefined;
  let total = 0;
  let i = 0;
  while (i < v.length) {
    const end = numberEnd(v, i);
    if (end < 0) return undefined;
    const unit = unitAt(v, end);
    if (unit === undefined) return undefined;
    total += Number.parseFloat(v.slice(i, end)) * (GO_UNIT_SECONDS[unit] ?? 1);
    i = end + unit.length;
  }
  return total;
}

/** A duration filter value: float seconds (`3600`) or a Go duration (`1h30m`). Returns seconds. */
export function parseDurationSeconds(value: string): number {
  const v = value.trim();
  const start = v.startsWith("-") ? 1 : 0;
  const seconds =
    v.length > start && numberEnd(v, start) === v.length ? Number.parseFloat(v) : goDurationSeconds(v);
  if (seconds === undefined) throw invalidArgument(`Failed to parse duration [${shown(value)}]`);
  if (!Number.isFinite(seconds)) {
    throw invalidArgument(`invalid value for filters: duration [${shown(value)}] is out of range`);
  }
  return seconds;
}
