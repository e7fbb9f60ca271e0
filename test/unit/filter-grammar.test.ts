import { describe, expect, it } from "vitest";
import { AppError } from "../../server/errors.js";
import { parseDurationSeconds, parseFilters } from "../../server/validation/filter-grammar.js";

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
