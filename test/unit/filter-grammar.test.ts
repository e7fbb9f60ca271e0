import { describe, expect, it } from "vitest";
import { AppError } from "../../server/errors.js";
import {
  MAX_FILTERS_LENGTH,
  parseDurationSeconds,
  parseFilters,
  splitExpression,
} from "../../server/validation/filter-grammar.js";

const scope = {
  primary: "e",
  columns: { e: new Set(["phase", "execution_name", "duration", "created_at"]), l: new Set(["name"]) },
};

function failure(raw: string): string {
  try {
    parseFilters(raw, scope);
  } catch (err) {
    if (err instanceof AppError) return err.message;
    throw err;
  }
  return "no error";
}

describe("parseFilters", () => {
  it("parses every function, + joins, ; lists and entity prefixes", () => {
    expect(parseFilters("", scope)).toEqual([]);
    expect(parseFilters("eq(phase,SUCCEEDED)+value_in(phase,RUNNING;QUEUED)", scope)).toEqual([
      { entity: "e", column: "phase", op: "eq", values: ["SUCCEEDED"] },
      { entity: "e", column: "phase", op: "value_in", values: ["RUNNING", "QUEUED"] },
    ]);
    for (const fn of ["ne", "gt", "gte", "lt", "lte", "contains", "not_like", "value_not_in"]) {
      expect(parseFilters(`${fn}(execution_name, x)`, scope)[0]).toMatchObject({
        op: fn,
        column: "execution_name",
      });
    }
    expect(parseFilters("eq(launch_plan.name,my.lp)", scope)).toEqual([
      { entity: "l", column: "name", op: "eq", values: ["my.lp"] },
    ]);
    expect(parseFilters("gte(created_at,2024-05-01T00:00:00Z)", scope)[0]?.values).toEqual([
      "2024-05-01T00:00:00Z",
    ]);
    expect(parseFilters("eq(phase,a;b)", scope)[0]?.values).toEqual(["a;b"]);
  });

  it("reports Flyte's errors", () => {
    expect(failure("eq phase")).toBe("invalid value for filters");
    expect(failure("neq(phase,x)")).toBe("unrecognized filter function: neq");
    expect(failure("eq(task.name,x)")).toBe("'t' entity is not allowed in filters");
    expect(failure("eq(name,x)")).toBe("'e.name' is invalid filter");
    expect(failure("eq(launch_plan.version,x)")).toBe("'l.version' is invalid filter");
    expect(failure("eq(phase,x)+")).toBe("invalid value for filters");
  });
});

describe("parseDurationSeconds", () => {
  it("accepts seconds and Go durations", () => {
    expect(parseDurationSeconds("3600")).toBe(3600);
    expect(parseDurationSeconds("1.5")).toBe(1.5);
    expect(parseDurationSeconds("1h30m")).toBe(5400);
    expect(parseDurationSeconds("250ms")).toBeCloseTo(0.25);
    expect(() => parseDurationSeconds("soon")).toThrow("Failed to parse duration [soon]");
  });
});

// FlyteAdmin's expression regex, as the parser used it before: the reference the linear scanner must agree with.
const FLYTE_EXPRESSION = /^(.+)\((.+),\s?(.+)\)$/s;

/** Every string over `alphabet` of length 0..max. */
function* strings(alphabet: readonly string[], max: number): Generator<string> {
  let level = [""];
  yield "";
  for (let n = 1; n <= max; n++) {
    const next: string[] = [];
    for (const s of level) for (const c of alphabet) next.push(s + c);
    yield* next;
    level = next;
  }
}

function elapsedMs(f: () => void): number {
  const started = performance.now();
  f();
  return performance.now() - started;
}

describe("splitExpression", () => {
  it("splits exactly as FlyteAdmin's greedy regex on every short string", () => {
    let checked = 0;
    const differing: string[] = [];
    for (const s of strings(["a", "(", ")", ",", " ", "\n"], 7)) {
      const m = FLYTE_EXPRESSION.exec(s);
      const want = m === null ? "none" : JSON.stringify([m[1], m[2], m[3]]);
      const got = splitExpression(s);
      if ((got === undefined ? "none" : JSON.stringify(got)) !== want) differing.push(s);
      checked++;
    }
    expect(differing).toEqual([]);
    expect(checked).toBeGreaterThan(300_000);
  });

  it("splits at the last comma and the last parenthesis that leave a field and a value", () => {
    expect(splitExpression("eq(a,b)")).toEqual(["eq", "a", "b"]);
    expect(splitExpression("eq(a, b)")).toEqual(["eq", "a", "b"]);
    expect(splitExpression("eq(a,  b)")).toEqual(["eq", "a", " b"]);
    expect(splitExpression("eq(a, )")).toEqual(["eq", "a", " "]);
    expect(splitExpression("eq(a,b,c)")).toEqual(["eq", "a,b", "c"]);
    expect(splitExpression("f(g(a,b),c)")).toEqual(["f(g", "a,b)", "c"]);
    expect(splitExpression("eq(a,)")).toBeUndefined();
    expect(splitExpression("(a,b)")).toBeUndefined();
  });

  it("takes linear time on adversarial input (100 KB of nested parentheses and commas)", () => {
    const inputs = [
      `eq(${"(,".repeat(50_000)}`,
      `eq(${"(,".repeat(50_000)})`,
      `${"(".repeat(100_000)})`,
      `eq(${",".repeat(100_000)})`,
      `a(${"b(c,".repeat(25_000)}d)`,
      `${"((,,".repeat(25_000)}x)`,
    ];
    for (const input of inputs) {
      expect(input.length).toBeGreaterThanOrEqual(100_000);
      expect(
        elapsedMs(() => splitExpression(input)),
        input.slice(0, 20),
      ).toBeLessThan(100);
    }
  });
});

describe("parseFilters limits", () => {
  it("parses or refuses a long adversarial filter quickly, and refuses one over the length limit", () => {
    const nested = `eq(${"(,".repeat((MAX_FILTERS_LENGTH - 4) / 2)}`;
    expect(nested.length).toBeLessThanOrEqual(MAX_FILTERS_LENGTH);
    expect(elapsedMs(() => expect(failure(nested)).toBe("invalid value for filters"))).toBeLessThan(100);
    const many = "eq(phase,x)+".repeat(2_000).slice(0, -1);
    expect(elapsedMs(() => expect(parseFilters(many, scope)).toHaveLength(2_000))).toBeLessThan(100);
    const long = `eq(${"(,".repeat(50_000)}`;
    expect(elapsedMs(() => expect(failure(long)).toBe(tooLong))).toBeLessThan(100);
  });

  it("refuses a NUL character anywhere", () => {
    expect(failure("eq(phase,a\0b)")).toBe("invalid value for filters: contains a NUL character");
    expect(failure("eq(pha\0se,x)")).toBe("invalid value for filters: contains a NUL character");
  });
});

const tooLong = `invalid value for filters: longer than ${MAX_FILTERS_LENGTH} characters`;

// The duration parser as it was (regular expressions), the reference for the scanner.
function referenceDuration(value: string): number | string {
  const v = value.trim();
  if (/^-?[0-9]*\.?[0-9]+$/.test(v)) return Number.parseFloat(v);
  if (!/^([0-9]*\.?[0-9]+(ns|us|µs|ms|s|m|h))+$/.test(v)) return `Failed to parse duration [${value}]`;
  const unit: Record<string, number> = { ns: 1e-9, us: 1e-6, µs: 1e-6, ms: 1e-3, s: 1, m: 60, h: 3600 };
  let total = 0;
  for (const [, num = "0", u = "s"] of v.matchAll(/([0-9]*\.?[0-9]+)(ns|us|µs|ms|s|m|h)/g)) {
    total += Number.parseFloat(num) * (unit[u] ?? 1);
  }
  return total;
}

function duration(value: string): number | string {
  try {
    return parseDurationSeconds(value);
  } catch (err) {
    if (err instanceof AppError) return err.message;
    throw err;
  }
}

describe("parseDurationSeconds, scanned", () => {
  it("agrees with the regular expressions it replaced on every short string", () => {
    const differing: string[] = [];
    for (const s of strings(["1", "2", ".", "-", "h", "m", "s", "n", "µ", " "], 5)) {
      if (duration(s) !== referenceDuration(s)) differing.push(s);
    }
    expect(differing).toEqual([]);
  });

  it("refuses a duration too large to represent", () => {
    const huge = "9".repeat(400);
    // The value is echoed cut at 100 characters.
    const echo = `${huge}h`.slice(0, 100);
    expect(duration(huge)).toBe(`invalid value for filters: duration [${echo}…] is out of range`);
    expect(duration(`${huge}h`)).toBe(`invalid value for filters: duration [${echo}…] is out of range`);
  });

  it("takes linear time on adversarial input", () => {
    for (const input of [`${"1".repeat(100_000)}x`, "1.".repeat(50_000), `${"1h".repeat(50_000)}x`]) {
      expect(elapsedMs(() => duration(input))).toBeLessThan(100);
    }
  });
});
