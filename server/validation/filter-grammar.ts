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

const EXPRESSION = /^(.+)\((.+),\s?(.+)\)$/s;

function isOp(fn: string): fn is FilterOp {
  return (FILTER_OPS as readonly string[]).includes(fn);
}

function parseExpression(expr: string, scope: FilterScope): Filter {
  const m = EXPRESSION.exec(expr);
  if (m === null) throw invalidArgument("invalid value for filters");
  const [, fn = "", field = "", value = ""] = m;
  if (!isOp(fn)) throw invalidArgument(`unrecognized filter function: ${fn}`);
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
  if (allowed === undefined) throw invalidArgument(`'${entity}' entity is not allowed in filters`);
  if (!allowed.has(column)) throw invalidArgument(`'${entity}.${column}' is invalid filter`);
  const values = fn === "value_in" || fn === "value_not_in" ? value.split(";") : [value];
  return { entity, column, op: fn, values };
}

/** Parses a filter string; the empty string means no filters. */
export function parseFilters(raw: string, scope: FilterScope): Filter[] {
  if (raw.trim() === "") return [];
  return raw.split("+").map((expr) => parseExpression(expr.trim(), scope));
}

const GO_DURATION = /^([0-9]*\.?[0-9]+(ns|us|µs|ms|s|m|h))+$/;
const GO_UNIT_SECONDS: Readonly<Record<string, number>> = {
  ns: 1e-9,
  us: 1e-6,
  µs: 1e-6,
  ms: 1e-3,
  s: 1,
  m: 60,
  h: 3600,
};

/** A duration filter value: float seconds (`3600`) or a Go duration (`1h30m`). Returns seconds. */
export function parseDurationSeconds(value: string): number {
  const v = value.trim();
  if (/^-?[0-9]*\.?[0-9]+$/.test(v)) return Number.parseFloat(v);
  if (!GO_DURATION.test(v)) throw invalidArgument(`Failed to parse duration [${value}]`);
  let total = 0;
  for (const [, num = "0", unit = "s"] of v.matchAll(/([0-9]*\.?[0-9]+)(ns|us|µs|ms|s|m|h)/g)) {
    total += Number.parseFloat(num) * (GO_UNIT_SECONDS[unit] ?? 1);
  }
  return total;
}
