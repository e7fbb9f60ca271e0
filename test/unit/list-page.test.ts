import knexFactory from "knex";
import { describe, expect, it } from "vitest";
import { AppError } from "../../server/errors.js";
import { applyFilters } from "../../server/repositories/list-filters.js";
import { runPage } from "../../server/repositories/list-page.js";
import { type ListSpec, resolveSort } from "../../server/repositories/list-spec.js";
import { encodeToken } from "../../server/repositories/page-token.js";
import { parseFilters } from "../../server/validation/filter-grammar.js";

const spec: ListSpec = {
  rpcName: "ListThings",
  primary: "t",
  entities: {
    t: {
      name: { sql: "t.name" },
      state: { sql: "t.state", kind: "int" },
      created_at: { sql: "t.created_at", kind: "timestamp" },
      duration: { sql: "t.secs", kind: "duration" },
      closure: { sql: "t.closure", kind: "bytes" },
    },
  },
  sortKeys: {
    created_at: { sql: "t.created_at", type: "timestamptz" },
    name: { sql: "t.name", type: "text" },
  },
  defaultSort: { key: "created_at", direction: "desc" },
  tieBreaker: { sql: "t.id", type: "bigint" },
};
const knex = knexFactory({ client: "pg" });

function sqlFor(filters: string) {
  const qb = knex("things as t").select("t.*");
  applyFilters(
    qb,
    parseFilters(filters, { primary: "t", columns: { t: new Set(Object.keys(spec.entities.t ?? {})) } }),
    spec,
  );
  return qb.toSQL().toNative();
}

describe("list pages", () => {
  it("turns filters into bound SQL", () => {
    const q = sqlFor(
      "eq(name,a)+contains(name,b)+not_like(name,c%)+value_in(state,1;2)+gt(duration,1h)+lt(created_at,2024-01-01T00:00:00Z)",
    );
    expect(q.sql).toBe(
      'select "t".* from "things" as "t" where t.name = $1 and t.name LIKE $2 and t.name NOT LIKE $3 and t.state IN ($4, $5) and t.secs > $6 and t.created_at < $7::timestamptz',
    );
    expect(q.bindings).toEqual(["a", "%b%", "c%", 1, 2, 3600, "2024-01-01T00:00:00Z"]);
  });

  it("validates filter values, sort keys and directions", () => {
    expect(() => sqlFor("eq(state,abc)")).toThrow(AppError);
    expect(() => sqlFor("eq(created_at,not-a-time)")).toThrow(AppError);
    expect(() => resolveSort({ key: "bogus", direction: 0 }, spec)).toThrow("invalid sort key 'bogus'");
    expect(() => resolveSort({ key: "name", direction: 5 }, spec)).toThrow("invalid sort order specified: 5");
    expect(resolveSort(undefined, spec)).toMatchObject({ key: "created_at", dir: "desc" });
    expect(resolveSort({ key: "name", direction: 1 }, spec)).toMatchObject({ key: "name", dir: "asc" });
  });

  it("makes opaque url-safe tokens", () => {
    const token = encodeToken({ k: "created_at", d: "desc", v: "2024-01-01 00:00:00+00", t: "42" });
    expect(token).toMatch(/^[A-Za-z0-9_-]+$/);
  });
});

function refusal(filters: string): string {
  try {
    sqlFor(filters);
  } catch (err) {
    if (err instanceof AppError) return err.message;
    throw err;
  }
  return "no error";
}

describe("filter values are checked against the column type before any SQL runs", () => {
  it("refuses integers beyond bigint, and sends those beyond int4 as bigint", () => {
    expect(refusal("eq(state,99999999999999999999)")).toBe(
      "invalid value for filters: '99999999999999999999' is out of range",
    );
    expect(refusal("eq(state,1.5)")).toBe("invalid value for filters: '1.5' is not an integer");
    const q = sqlFor("value_in(state,-3;3000000000;9223372036854775807)");
    expect(q.sql).toBe('select "t".* from "things" as "t" where t.state IN ($1, $2::bigint, $3::bigint)');
    expect(q.bindings).toEqual([-3, "3000000000", "9223372036854775807"]);
    expect(refusal("eq(state,-9223372036854775809)")).toMatch(/is out of range$/);
  });

  it("accepts RFC 3339 timestamps only, with real dates and an offset", () => {
    for (const ok of [
      "2024-05-01T00:00:00Z",
      "2024-02-29T23:59:59.123456-07:00",
      "2024-05-01t00:00:00z",
      "0001-01-01T00:00:00Z",
      "9999-12-31T23:59:60Z",
    ]) {
      expect(refusal(`gte(created_at,${ok})`), ok).toBe("no error");
    }
    for (const bad of [
      "2020",
      "0000-01-01",
      "0000-01-01T00:00:00Z",
      "2024-05-01",
      "2024-05-01T00:00:00",
      "2023-02-29T00:00:00Z",
      "2024-13-01T00:00:00Z",
      "2024-01-01T24:00:00Z",
      "2024-01-01T00:60:00Z",
      "2024-01-01T00:00:00-16:00",
      "20240-01-01T00:00:00Z",
      "May 1 2024",
    ]) {
      expect(refusal(`gte(created_at,${bad})`), bad).toBe(
        `invalid value for filters: '${bad}' is not a timestamp (RFC 3339, e.g. 2024-05-01T00:00:00Z)`,
      );
    }
  });

  it("refuses durations that are not numbers or too large", () => {
    expect(refusal("gt(duration,NaN)")).toBe("Failed to parse duration [NaN]");
    expect(refusal(`gt(duration,1${"0".repeat(400)})`)).toMatch(/^invalid value for filters: duration \[1/);
  });

  it("checks bytea input and LIKE patterns, and allows LIKE on text and bytes only", () => {
    expect(refusal("eq(closure,\\x0g)")).toBe("invalid value for filters: '\\x0g' is not valid bytea input");
    expect(refusal("eq(closure,a\\b)")).toBe("invalid value for filters: 'a\\b' is not valid bytea input");
    expect(refusal("eq(closure,\\x0102)")).toBe("no error");
    expect(refusal("contains(closure,ab)")).toBe("no error");
    expect(refusal("not_like(name,abc\\)")).toBe(
      "invalid value for filters: pattern 'abc\\' ends with an escape character",
    );
    expect(refusal("not_like(name,abc\\\\)")).toBe("no error");
    expect(refusal("contains(name,abc\\)")).toBe("no error");
    for (const col of ["state", "created_at", "duration"]) {
      expect(refusal(`contains(${col},1)`)).toBe(
        `invalid value for filters: contains cannot be used on 't.${col}'`,
      );
      expect(refusal(`not_like(${col},1)`)).toBe(
        `invalid value for filters: not_like cannot be used on 't.${col}'`,
      );
    }
  });
});

describe("page tokens", () => {
  async function tokenRefusal(token: string, sortBy?: { key: string; direction: number }): Promise<string> {
    const qb = knex("things as t").select("t.*");
    try {
      await runPage(qb, { limit: 10, token, sortBy }, spec);
    } catch (err) {
      if (err instanceof AppError) return err.message;
      throw err;
    }
    return "no error";
  }
  const cursor = (c: Record<string, unknown>) => Buffer.from(JSON.stringify(c)).toString("base64url");
  const good = { k: "created_at", d: "desc", v: "2024-01-01 00:00:00.5+00", t: "42" };

  it("refuses offsets beyond bigint, negative or non-numeric tokens, and forged cursors", async () => {
    const forged: string[] = [
      "99999999999999999999",
      "-1",
      "abc",
      "1.5",
      cursor({ ...good, v: "garbage" }),
      cursor({ ...good, v: "0000-01-01 00:00:00+00" }),
      cursor({ ...good, v: "2024-02-30 00:00:00+00" }),
      cursor({ ...good, v: null }),
      cursor({ ...good, v: 5 }),
      cursor({ ...good, t: "x" }),
      cursor({ ...good, t: "99999999999999999999" }),
      cursor({ ...good, k: "name" }),
      cursor({ ...good, d: "asc" }),
      Buffer.from("[1,2]").toString("base64url"),
      Buffer.from("null").toString("base64url"),
      encodeToken({ k: "created_at", d: "desc", v: "2024-01-01 00:00:00+00", t: "42" }).slice(0, -3),
    ];
    for (const token of forged) {
      const shown = token.length > 100 ? `${token.slice(0, 100)}…` : token;
      expect(await tokenRefusal(token), token).toBe(`invalid pagination token ${shown} for ListThings`);
    }
    expect(
      await tokenRefusal(cursor({ k: "name", d: "asc", v: "a\u0000", t: "1" }), {
        key: "name",
        direction: 1,
      }),
    ).toMatch(/^invalid pagination token /);
    const long = "x".repeat(1_000);
    expect(await tokenRefusal(long)).toBe(`invalid pagination token ${"x".repeat(100)}… for ListThings`);
  });
});
