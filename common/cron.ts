// Cron schedules as Flyte's native scheduler reads them (UTC): 5 fields (minute hour day-of-month month
// day-of-week, with names, ranges, lists and steps), the @yearly/@monthly/@weekly/@daily/@hourly descriptors,
// and `@every <duration>`. Shared by the server (validation, scheduler) and the client (backfills).
import { FixedRateUnit } from "../gen/flyteidl/admin/schedule_pb.js";

const DESCRIPTORS: Record<string, string> = {
  "@yearly": "0 0 1 1 *",
  "@annually": "0 0 1 1 *",
  "@monthly": "0 0 1 * *",
  "@weekly": "0 0 * * 0",
  "@daily": "0 0 * * *",
  "@midnight": "0 0 * * *",
  "@hourly": "0 * * * *",
};
const FIELDS = [
  { name: "minute", min: 0, max: 59 },
  { name: "hour", min: 0, max: 23 },
  { name: "day of month", min: 1, max: 31 },
  {
    name: "month",
    min: 1,
    max: 12,
    names: ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"],
  },
  { name: "day of week", min: 0, max: 7, names: ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"] },
] as const;
const DURATION_UNITS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  ms: 1,
  s: 1e3,
  m: 6e4,
  h: 3.6e6,
};
const MINUTE = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;
/** Bound on generated ticks, so a mistaken range cannot create millions of executions. */
export const MAX_TICKS = 10_000;
/**
 * The longest interval a schedule may have (a fixed rate, an `@every` duration or a cron offset): 3650 days,
 * about ten years. Far below where date maths breaks (JavaScript dates end in the year 275760, Go durations
 * at 292 years), yet longer than any schedule anyone means to run.
 */
export const MAX_INTERVAL_DAYS = 3650;
export const MAX_INTERVAL_MS = MAX_INTERVAL_DAYS * 86_400_000;

export class CronError extends Error {}

/** A parsed schedule: minute-resolution cron sets, or a fixed interval. */
export type Cron =
  | { readonly kind: "cron"; readonly fields: readonly (ReadonlySet<number> | undefined)[] }
  | { readonly kind: "every"; readonly ms: number };

type Field = (typeof FIELDS)[number];

function fieldValue(text: string, field: Field): number | undefined {
  const names: readonly string[] | undefined = "names" in field ? field.names : undefined;
  const named = names?.indexOf(text.toUpperCase()) ?? -1;
  if (named >= 0) return field.min + named;
  return /^\d+$/.test(text) ? Number.parseInt(text, 10) : undefined;
}

/** The values a field allows, or undefined for "any". */
function parseField(part: string, field: Field): Set<number> | undefined {
  if (part === "*" || part === "?") return undefined;
  const out = new Set<number>();
  for (const item of part.split(",")) {
    const [range = "", step, ...rest] = item.split("/");
    if (rest.length > 0 || (step !== undefined && !/^[1-9]\d*$/.test(step)))
      throw new CronError(`bad step in ${field.name} "${item}"`);
    const bounds = range === "*" || range === "?" ? [String(field.min), String(field.max)] : range.split("-");
    if (bounds.length > 2) throw new CronError(`bad range in ${field.name} "${item}"`);
    const values = bounds.map((b) => fieldValue(b, field));
    for (const v of values)
      if (v === undefined || v < field.min || v > field.max)
        throw new CronError(`value out of range in ${field.name} "${item}" (${field.min}-${field.max})`);
    const [lo = 0, hi = step === undefined || bounds.length === 2 ? lo : field.max] = values as number[];
    if (lo > hi) throw new CronError(`bad range in ${field.name} "${item}"`);
    for (let v = lo; v <= hi; v += Number(step ?? 1))
      out.add(field.name === "day of week" && v === 7 ? 0 : v);
  }
  return out;
}

function parseDuration(text: string, expr: string): number {
  if (!/^([0-9]*\.?[0-9]+(ns|us|µs|ms|s|m|h))+$/.test(text))
    throw new CronError(`failed to parse duration ${expr}`);
  let ms = 0;
  for (const [, n, unit] of text.matchAll(/([0-9]*\.?[0-9]+)(ns|us|µs|ms|s|m|h)/g))
    ms += Number(n) * (DURATION_UNITS[unit ?? "ms"] ?? 0);
  if (!(ms > 0)) throw new CronError(`the @every duration must be positive: ${expr}`);
  if (ms > MAX_INTERVAL_MS)
    throw new CronError(`the @every duration is longer than ${MAX_INTERVAL_DAYS} days: ${expr}`);
  return Math.max(ms, 1_000); // sub-second intervals run every second, as robfig/cron does
}

// PnYnMnWnDTnHnMnS; each part optional (at least one), the last may have a fraction.
const ISO_DURATION =
  /^P(?:(\d+(?:[.,]\d+)?)Y)?(?:(\d+(?:[.,]\d+)?)M)?(?:(\d+(?:[.,]\d+)?)W)?(?:(\d+(?:[.,]\d+)?)D)?(?:T(?:(\d+(?:[.,]\d+)?)H)?(?:(\d+(?:[.,]\d+)?)M)?(?:(\d+(?:[.,]\d+)?)S)?)?$/;
// Calendar parts at their nominal lengths (a year of 365 days, a month of 30): only used to bound the length.
const ISO_PART_MS = [365 * DAY, 30 * DAY, 7 * DAY, DAY, HOUR, MINUTE, 1_000];

/**
 * The nominal length in ms of an ISO 8601 duration such as `PT1H` or `P1DT12H` (what `cron_schedule.offset`
 * holds); throws CronError when the text is not one or is longer than the maximum interval.
 */
export function parseIsoDuration(text: string): number {
  const m = ISO_DURATION.exec(text);
  const parts = m?.slice(1) ?? [];
  if (m === null || parts.every((p) => p === undefined) || text.endsWith("T"))
    throw new CronError(`"${text}" is not an ISO 8601 duration (such as PT1H or P1DT12H)`);
  const given = parts.flatMap((p, i) => (p === undefined ? [] : [{ i, n: Number(p.replace(",", ".")) }]));
  if (given.slice(0, -1).some((g) => !Number.isInteger(g.n)))
    throw new CronError(`"${text}": only the smallest part of an ISO 8601 duration may have a fraction`);
  const ms = given.reduce((sum, g) => sum + g.n * (ISO_PART_MS[g.i] ?? 0), 0);
  if (ms > MAX_INTERVAL_MS) throw new CronError(`"${text}" is longer than ${MAX_INTERVAL_DAYS} days`);
  return ms;
}

const RATE_UNIT_MS: Record<FixedRateUnit, number> = {
  [FixedRateUnit.MINUTE]: MINUTE,
  [FixedRateUnit.HOUR]: HOUR,
  [FixedRateUnit.DAY]: DAY,
};

/**
 * A launch plan's fixed rate (`value` × `unit`) as a schedule. Throws CronError naming the field when the unit is
 * not MINUTE, HOUR or DAY, or the value is not positive or makes the interval longer than the maximum.
 */
export function fixedRate(value: number, unit: FixedRateUnit): Cron {
  const unitMs = RATE_UNIT_MS[unit] as number | undefined;
  if (unitMs === undefined) throw new CronError(`rate.unit ${unit} is not one of MINUTE, HOUR, DAY`);
  if (!Number.isInteger(value) || value <= 0) throw new CronError("rate.value must be positive");
  const ms = value * unitMs;
  if (ms > MAX_INTERVAL_MS)
    throw new CronError(
      `rate.value ${value} ${FixedRateUnit[unit]} is longer than the maximum of ${MAX_INTERVAL_DAYS} days`,
    );
  return { kind: "every", ms };
}

/** Parses a schedule expression; throws CronError with the problem. */
export function parseCron(expr: string): Cron {
  const e = expr.trim();
  if (e.startsWith("@every ")) return { kind: "every", ms: parseDuration(e.slice(7).trim(), e) };
  const text = DESCRIPTORS[e.toLowerCase()];
  if (text === undefined && e.startsWith("@")) throw new CronError(`unrecognized descriptor: ${e}`);
  const parts = (text ?? e).split(/\s+/);
  if (parts.length !== 5) throw new CronError(`expected exactly 5 fields, found ${parts.length}: ${e}`);
  return { kind: "cron", fields: parts.map((p, i) => parseField(p, FIELDS[i] as Field)) };
}

const allows = (s: ReadonlySet<number> | undefined, v: number) => s === undefined || s.has(v);

function dayMatches(fields: Extract<Cron, { kind: "cron" }>["fields"], d: Date): boolean {
  const [, , dom, mon, dow] = fields;
  if (!allows(mon, d.getUTCMonth() + 1)) return false;
  const domOk = allows(dom, d.getUTCDate());
  const dowOk = allows(dow, d.getUTCDay());
  // Standard cron: when both day fields are restricted, either may match.
  return dom !== undefined && dow !== undefined ? domOk || dowOk : domOk && dowOk;
}

/**
 * The first fire time strictly after `after`. `@every` schedules count from `anchor` (when the schedule began).
 * Undefined when a cron expression never fires in the next five years (e.g. 30 February). Throws CronError when
 * the time cannot be computed (an interval that is not a positive number, or a time past the end of dates).
 */
export function nextFire(c: Cron, after: Date, anchor: Date = after): Date | undefined {
  if (!Number.isFinite(after.getTime()) || !Number.isFinite(anchor.getTime()))
    throw new CronError("cannot compute the next fire time from an invalid date");
  if (c.kind === "every") {
    if (!(Number.isFinite(c.ms) && c.ms > 0)) throw new CronError(`invalid schedule interval ${c.ms} ms`);
    const k = Math.floor((after.getTime() - anchor.getTime()) / c.ms) + 1;
    const next = new Date(anchor.getTime() + Math.max(1, k) * c.ms);
    if (!Number.isFinite(next.getTime())) throw new CronError("the next fire time is past the end of dates");
    return next;
  }
  const [min, hour] = c.fields;
  const limit = after.getTime() + 5 * 366 * DAY;
  let t = Math.floor(after.getTime() / MINUTE) * MINUTE + MINUTE;
  while (t <= limit) {
    const d = new Date(t);
    if (!dayMatches(c.fields, d)) t = Math.floor(t / DAY) * DAY + DAY;
    else if (!allows(hour, d.getUTCHours())) t = Math.floor(t / HOUR) * HOUR + HOUR;
    else if (!allows(min, d.getUTCMinutes())) t += MINUTE;
    else return d;
  }
  return undefined;
}

/** Fire times strictly after `from` and strictly before `to` (`@every` counted from `from`). */
export function ticksBetween(c: Cron, from: Date, to: Date): Date[] {
  const out: Date[] = [];
  for (let d = nextFire(c, from); d !== undefined && d < to; d = nextFire(c, d, from)) {
    out.push(d);
    if (out.length > MAX_TICKS) throw new CronError(`the range has more than ${MAX_TICKS} schedule ticks`);
  }
  return out;
}
