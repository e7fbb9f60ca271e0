// Cron schedules as Flyte's native scheduler accepts them: standard 5-field expressions or descriptors
// (@hourly, @daily, @every 1h, ...). Returns a problem description, or undefined when the expression is valid.
const DESCRIPTORS = new Set([
  "@yearly",
  "@annually",
  "@monthly",
  "@weekly",
  "@daily",
  "@midnight",
  "@hourly",
]);
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

function fieldValue(text: string, field: (typeof FIELDS)[number]): number | undefined {
  const names: readonly string[] | undefined = "names" in field ? field.names : undefined;
  const named = names?.indexOf(text.toUpperCase()) ?? -1;
  if (named >= 0) return field.min + named;
  if (!/^\d+$/.test(text)) return undefined;
  return Number.parseInt(text, 10);
}

function checkField(part: string, field: (typeof FIELDS)[number]): string | undefined {
  for (const item of part.split(",")) {
    const [range = "", step, ...rest] = item.split("/");
    if (rest.length > 0 || (step !== undefined && !/^[1-9]\d*$/.test(step)))
      return `bad step in ${field.name} "${item}"`;
    if (range === "*" || range === "?") continue;
    const bounds = range.split("-");
    if (bounds.length > 2) return `bad range in ${field.name} "${item}"`;
    const values = bounds.map((b) => fieldValue(b, field));
    for (const v of values) {
      if (v === undefined || v < field.min || v > field.max) {
        return `value out of range in ${field.name} "${item}" (${field.min}-${field.max})`;
      }
    }
    const [lo = 0, hi = lo] = values as number[];
    if (lo > hi) return `bad range in ${field.name} "${item}"`;
  }
  return undefined;
}

export function cronProblem(expr: string): string | undefined {
  const e = expr.trim();
  if (DESCRIPTORS.has(e)) return undefined;
  if (e.startsWith("@every ")) {
    return /^([0-9]*\.?[0-9]+(ns|us|µs|ms|s|m|h))+$/.test(e.slice(7).trim())
      ? undefined
      : `failed to parse duration ${e}`;
  }
  if (e.startsWith("@")) return `unrecognized descriptor: ${e}`;
  const parts = e.split(/\s+/);
  if (parts.length !== 5) return `expected exactly 5 fields, found ${parts.length}: ${e}`;
  for (const [i, part] of parts.entries()) {
    const field = FIELDS[i];
    if (field === undefined) break;
    const problem = checkField(part, field);
    if (problem !== undefined) return problem;
  }
  return undefined;
}
