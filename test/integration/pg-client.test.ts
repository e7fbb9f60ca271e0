// The knex client Petrel uses: a transaction's BEGIN travels with its first statement when that one has no bind
// parameters (one round trip less), is sent alone otherwise, and is not sent at all for a transaction that ran
// nothing; SET LOCAL statements right after BEGIN travel with it (and take effect in that transaction only). Checked by recording what reaches the pg driver, and by the results.
import type { Knex } from "knex";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDatabase } from "../../server/db/database.js";
import { createTestDatabase, type TestDatabase } from "../support/test-database.js";

let database: TestDatabase;
let db: Knex;
const sent: string[] = [];
const original = pg.Client.prototype.query;

beforeAll(async () => {
  database = await createTestDatabase();
  db = createDatabase(database.url, 2);
  await db.raw("SELECT 1"); // connect first: the pool's own setup queries are not part of the checks
  pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
    const config = args[0] as string | { text: string };
    sent.push(typeof config === "string" ? config : config.text);
    return (original as (...a: unknown[]) => unknown).apply(this, args);
  } as typeof original;
});
afterAll(async () => {
  pg.Client.prototype.query = original;
  await db?.destroy();
  await database?.drop();
});

describe("PetrelPgClient", () => {
  it("sends BEGIN with the first statement when it has no bind parameters", async () => {
    sent.length = 0;
    const rows = await db.transaction(async (trx) => {
      const one = (await trx.raw("SELECT 1 AS a")) as { rows: { a: number }[] };
      const two = (await trx.raw("SELECT 2 AS b; SELECT 3 AS c")) as { rows: { b?: number; c?: number }[] }[];
      return [one.rows[0], two[0]?.rows[0], two[1]?.rows[0]];
    });
    expect(rows).toEqual([{ a: 1 }, { b: 2 }, { c: 3 }]);
    expect(sent).toEqual(["BEGIN; SELECT 1 AS a", "SELECT 2 AS b; SELECT 3 AS c", "COMMIT;"]);
  });

  it("sends BEGIN alone before a statement with bind parameters, and rolls back on error", async () => {
    sent.length = 0;
    await db.raw("CREATE TABLE IF NOT EXISTS pg_client_probe (v int)");
    await expect(
      db.transaction(async (trx) => {
        await trx.raw("INSERT INTO pg_client_probe (v) VALUES (?)", [7]);
        throw new Error("stop");
      }),
    ).rejects.toThrow("stop");
    expect(sent.slice(1)).toEqual(["BEGIN;", "INSERT INTO pg_client_probe (v) VALUES ($1)", "ROLLBACK"]);
    expect(
      ((await db.raw("SELECT count(*)::int AS n FROM pg_client_probe")) as { rows: { n: number }[] }).rows,
    ).toEqual([{ n: 0 }]);
  });

  it("sends SET LOCAL settings with BEGIN, in front of the first statement or alone, for that transaction only", async () => {
    sent.length = 0;
    const setting = "SELECT current_setting('plan_cache_mode') AS mode";
    const merged = await db.transaction(async (trx) => {
      await trx.raw("SET LOCAL plan_cache_mode = force_generic_plan");
      return ((await trx.raw(setting)) as { rows: { mode: string }[] }).rows;
    });
    expect(merged).toEqual([{ mode: "force_generic_plan" }]);
    expect(sent).toEqual([`BEGIN; SET LOCAL plan_cache_mode = force_generic_plan; ${setting}`, "COMMIT;"]);

    sent.length = 0;
    const alone = await db.transaction(async (trx) => {
      await trx.raw("SET LOCAL plan_cache_mode = force_custom_plan");
      return ((await trx.raw(`${setting}, ?::int AS n`, [5])) as { rows: { mode: string; n: number }[] })
        .rows;
    });
    expect(alone).toEqual([{ mode: "force_custom_plan", n: 5 }]);
    expect(sent).toEqual([
      "BEGIN; SET LOCAL plan_cache_mode = force_custom_plan;",
      `${setting}, $1::int AS n`,
      "COMMIT;",
    ]);

    const after = (await db.raw(setting)) as { rows: { mode: string }[] };
    expect(after.rows).toEqual([{ mode: "auto" }]);
  });

  it("sends nothing for a transaction that ran nothing, and the connection stays usable", async () => {
    sent.length = 0;
    await db.transaction(async () => undefined);
    expect(sent).toEqual([]);
    const r = (await db.raw("SELECT txid_current_if_assigned() IS NULL AS idle")) as {
      rows: { idle: boolean }[];
    };
    expect(r.rows).toEqual([{ idle: true }]);
  });
});
