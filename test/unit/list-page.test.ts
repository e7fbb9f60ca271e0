import knexFactory from "knex";
import { describe, expect, it } from "vitest";
import { AppError } from "../../server/errors.js";
import {
  applyFilters,
  encodeToken,
  type ListSpec,
  resolveSort,
} from "../../server/repositories/list-page.js";
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
