// Schedule ticks for backfills: the times a cron expression (5 fields or an @descriptor, UTC) or a fixed rate
// fires strictly between two instants.
const DESCRIPTORS: Record<string, string> = {
  "@yearly": "0 0 1 1 *",
  "@annually": "0 0 1 1 *",
  "@monthly": "0 0 1 * *",
  "@weekly": "0 0 * * 0",
  "@daily": "0 0 * * *",
  "@midnight": "0 0 * * *",
  "@hourly": "0 * * * *",
};
const NAMES: Record<number, readonly string[]> = {
  3: ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"],
  4: ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"],
};
const RANGES = [
  [0, 59],
  [0, 23],
  [1, 31],
  [1, 12],
  [0, 7],
] as const;
const MINUTE = 60_000;
/** Bound on generated ticks, so a mistaken range cannot create millions of executions. */
export const MAX_TICKS = 10_000;

function value(text: string, field: number): number {
  const named = NAMES[field]?.indexOf(text.toUpperCase()) ?? -1;
  if (named >= 0) return named + (field === 3 ? 1 : 0);
  if (!/^\d+$/.test(text)) throw new Error(`invalid cron value "${text}"`);
  return Number(text);
}

function parseField(text: string, field: number): Set<number> | undefined {
  if (text === "*" || text === "?") return undefined;
  const [lo, hi] = RANGES[field] ?? [0, 0];
  const out = new Set<number>();
  for (const part of text.split(",")) {
    const [range = "", stepText] = part.split("/");
    const step = stepText === undefined ? 1 : value(stepText, -1);
    const [a, b] =
      range === "*"
        ? [lo, hi]
        : range.includes("-")
          ? range.split("-").map((x) => value(x, field))
          : [value(range, field), stepText === undefined ? value(range, field) : hi];
    if (a === undefined || b === undefined || a < lo || b > hi || a > b || step < 1)
      throw new Error(`invalid cron field "${text}"`);
    for (let v = a; v <= b; v += step) out.add(field === 4 && v === 7 ? 0 : v);
  }
  return out;
}

/** A matcher for a cron expression in UTC. */
export function cronMatcher(expr: string): (d: Date) => boolean {
  const text = DESCRIPTORS[expr.trim().toLowerCase()] ?? expr.trim();
  const parts = text.split(/\s+/);
  if (parts.length !== 5)
    throw new Error(`cron expression "${expr}" needs 5 fields or a descriptor like @daily`);
  const [min, hour, dom, mon, dow] = parts.map((p, i) => parseField(p, i));
  const has = (s: Set<number> | undefined, v: number) => s === undefined || s.has(v);
  return (d) => {
    if (!has(min, d.getUTCMinutes()) || !has(hour, d.getUTCHours()) || !has(mon, d.getUTCMonth() + 1))
      return false;
    const domOk = has(dom, d.getUTCDate());
    const dowOk = has(dow, d.getUTCDay());
    // Standard cron: when both day fields are restricted, either may match.
    return dom !== undefined && dow !== undefined ? domOk || dowOk : domOk && dowOk;
  };
}

function check(n: number): void {
  if (n > MAX_TICKS) throw new Error(`the range has more than ${MAX_TICKS} schedule ticks`);
}

/** Cron ticks strictly after `from` and strictly before `to`. */
export function cronTicks(expr: string, from: Date, to: Date): Date[] {
  const matches = cronMatcher(expr);
  const out: Date[] = [];
  let t = Math.floor(from.getTime() / MINUTE) * MINUTE + MINUTE;
  for (; t < to.getTime(); t += MINUTE) {
    const d = new Date(t);
    if (matches(d)) {
      out.push(d);
      check(out.length);
    }
  }
  return out;
}

/** Fixed-rate ticks `from + k·every` (k ≥ 1) strictly before `to`. */
export function rateTicks(everyMs: number, from: Date, to: Date): Date[] {
  if (!(everyMs > 0)) throw new Error("a fixed rate must be positive");
  const out: Date[] = [];
  for (let t = from.getTime() + everyMs; t < to.getTime(); t += everyMs) {
    out.push(new Date(t));
    check(out.length);
  }
  return out;
}
