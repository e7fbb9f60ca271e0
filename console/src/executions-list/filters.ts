// The executions list's filters and sort: kept in the URL's query (so a filtered list can be linked to) and turned
// into Flyte's filter grammar for ListExecutions and WatchExecutions.
import { Sort_Direction } from "../../../gen/flyteidl/admin/common_pb.js";

export const PHASES = [
  "QUEUED",
  "RUNNING",
  "SUCCEEDING",
  "SUCCEEDED",
  "FAILING",
  "FAILED",
  "ABORTING",
  "ABORTED",
  "TIMED_OUT",
];

export const SORTS = {
  created_desc: { label: "Newest first", key: "execution_created_at", direction: Sort_Direction.DESCENDING },
  created_asc: { label: "Oldest first", key: "execution_created_at", direction: Sort_Direction.ASCENDING },
  started_desc: { label: "Recently started", key: "started_at", direction: Sort_Direction.DESCENDING },
  updated_desc: {
    label: "Recently updated",
    key: "execution_updated_at",
    direction: Sort_Direction.DESCENDING,
  },
  duration_desc: { label: "Longest", key: "duration", direction: Sort_Direction.DESCENDING },
  name_asc: { label: "Name A→Z", key: "execution_name", direction: Sort_Direction.ASCENDING },
} as const;
export type SortChoice = keyof typeof SORTS;

export interface ExecutionFilters {
  readonly phases: readonly string[];
  /** Launch plan name. */
  readonly launchPlan: string;
  /** Created at or after / before, as `datetime-local` values (the browser's time zone). */
  readonly from: string;
  readonly to: string;
  /** `key=value`, or `key` for any value. */
  readonly label: string;
  readonly tag: string;
  readonly sort: SortChoice;
}

const isSort = (s: string | null): s is SortChoice => s !== null && Object.hasOwn(SORTS, s);

export function filtersFromQuery(q: URLSearchParams): ExecutionFilters {
  const sort = q.get("sort");
  return {
    phases: (q.get("phase") ?? "").split(",").filter((p) => PHASES.includes(p)),
    launchPlan: q.get("lp") ?? "",
    from: q.get("from") ?? "",
    to: q.get("to") ?? "",
    label: q.get("label") ?? "",
    tag: q.get("tag") ?? "",
    sort: isSort(sort) ? sort : "created_desc",
  };
}

/** The query string for these filters ("" when none are set), with a leading `?`. */
export function filtersToQuery(f: ExecutionFilters): string {
  const q = new URLSearchParams();
  if (f.phases.length > 0) q.set("phase", f.phases.join(","));
  if (f.launchPlan !== "") q.set("lp", f.launchPlan);
  if (f.from !== "") q.set("from", f.from);
  if (f.to !== "") q.set("to", f.to);
  if (f.label !== "") q.set("label", f.label);
  if (f.tag !== "") q.set("tag", f.tag);
  if (f.sort !== "created_desc") q.set("sort", f.sort);
  const s = q.toString();
  return s === "" ? "" : `?${s}`;
}

/** Characters the filter grammar cannot carry inside a value (it has no escaping). */
const UNSAFE = /[,;+()]/;

function value(what: string, v: string): string {
  const t = v.trim();
  if (UNSAFE.test(t)) throw new Error(`${what} cannot contain , ; + ( or )`);
  return t;
}

/** RFC 3339 in UTC with `Z` (a `+` would split the filter), whole seconds. */
function utc(what: string, local: string): string {
  const ms = Date.parse(local);
  if (Number.isNaN(ms)) throw new Error(`${what} is not a date and time`);
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
}

/**
 * The filter expressions for everything but the phase (which changes during an execution's life, so the watch
 * stream must not filter on it), joined with `+`. Throws an Error naming a value the grammar cannot carry.
 */
export function stableFilterString(f: ExecutionFilters): string {
  const parts: string[] = [];
  if (f.launchPlan.trim() !== "")
    parts.push(`eq(launch_plan.name,${value("The launch plan", f.launchPlan)})`);
  if (f.from !== "") parts.push(`gte(execution_created_at,${utc("From", f.from)})`);
  if (f.to !== "") parts.push(`lte(execution_created_at,${utc("To", f.to)})`);
  if (f.label.trim() !== "") {
    const [k = "", ...rest] = f.label.split("=");
    const key = value("The label", k);
    if (key === "") throw new Error("The label needs a key: key=value");
    parts.push(`eq(execution_tag.key,${key})`);
    if (rest.length > 0) parts.push(`eq(execution_tag.value,${value("The label", rest.join("="))})`);
  }
  if (f.tag.trim() !== "") parts.push(`eq(admin_tag.name,${value("The tag", f.tag)})`);
  return parts.join("+");
}

/** All the filters, phase included, for ListExecutions. */
export function filterString(f: ExecutionFilters): string {
  const stable = stableFilterString(f);
  if (f.phases.length === 0) return stable;
  const phase = f.phases.length === 1 ? `eq(phase,${f.phases[0]})` : `value_in(phase,${f.phases.join(";")})`;
  return stable === "" ? phase : `${stable}+${phase}`;
}
