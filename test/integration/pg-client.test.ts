// The knex client Petrel uses: a transaction's BEGIN travels with its first statement (in front of it when that one
// has no bind parameters, pipelined with it otherwise: one round trip less either way) and is not sent at all for a
// transaction that ran nothing; SET LOCAL statements right after BEGIN travel with it (and take effect in that
// transaction only); a statement marked `commitAfter` has its COMMIT pipelined behind it. Checked by recording what
// reaches the pg driver and when the answers come (">" sent, "<" answered), and by the results.
import type { Knex } from "knex";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDatabase } from "../../server/db/database.js";
import { createTestDatabase, type TestDatabase } from "../support/test-database.js";

let database: TestDatabase;
let db: Knex;
const sent: string[] = [];
const events: string[] = [];
const original = pg.Client.prototype.query;

beforeAll(async () => {
  database = await createTestDatabase();
  db = createDatabase(database.url, 2);
  await db.raw("SELECT 1"); // connect first: the pool's own setup queries are not part of the checks
  pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
    const config = args[0] as string | { text: string };
    const text = typeof config === "string" ? config : config.text;
    sent.push(text);
    events.push(`>${text}`);
    const done = args[1];
    if (typeof done === "function")
      args[1] = (...answer: unknown[]) => {
        events.push(`<${text}`);
        return (done as (...a: unknown[]) => unknown)(...answer);
      };
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

  it("pipelines BEGIN with a first statement that has bind parameters, and rolls back on error", async () => {
    await db.raw("CREATE TABLE IF NOT EXISTS pg_client_probe (v int)");
    sent.length = 0;
    events.length = 0;
    const insert = "INSERT INTO pg_client_probe (v) VALUES ($1) RETURNING v";
    await expect(
      db.transaction(async (trx) => {
        const r = (await trx.raw("INSERT INTO pg_client_probe (v) VALUES (?) RETURNING v", [7])) as {
          rows: { v: number }[];
        };
        expect(r.rows).toEqual([{ v: 7 }]);
        throw new Error("stop");
      }),
    ).rejects.toThrow("stop");
    expect(events).toEqual([">BEGIN;", `>${insert}`, "<BEGIN;", `<${insert}`, ">ROLLBACK", "<ROLLBACK"]);
    expect(await count()).toBe(0);
    expect(await db.raw("SELECT 1 AS ok")).toMatchObject({ rows: [{ ok: 1 }] }); // the pool's connections work on
  });

  it("pipelines a commitAfter statement's COMMIT behind it, and answers knex's COMMIT with it", async () => {
    await db.raw("TRUNCATE pg_client_probe");
    const insert = "INSERT INTO pg_client_probe (v) VALUES ($1)";
    events.length = 0;
    await db.transaction(async (trx) => {
      await trx.raw("SELECT 1");
      await trx.raw("INSERT INTO pg_client_probe (v) VALUES (?)", [1]).options({ commitAfter: true });
    });
    expect(events).toEqual([
      ">BEGIN; SELECT 1",
      "<BEGIN; SELECT 1",
      `>${insert}`,
      ">COMMIT;",
      `<${insert}`,
      "<COMMIT;",
    ]);
    expect(await count()).toBe(1);

    events.length = 0; // the transaction's only statement: BEGIN, it and COMMIT in one go
    await db.transaction(async (trx) => {
      await trx.raw("INSERT INTO pg_client_probe (v) VALUES (?)", [2]).options({ commitAfter: true });
    });
    expect(events).toEqual([">BEGIN;", `>${insert}`, ">COMMIT;", "<BEGIN;", `<${insert}`, "<COMMIT;"]);
    expect(await count()).toBe(2);
  });

  it("rolls back when a commitAfter statement fails, and reports a COMMIT that fails", async () => {
    await db.raw(`CREATE TABLE IF NOT EXISTS pg_client_unique (
      v int, CONSTRAINT pg_client_unique_v UNIQUE (v) DEFERRABLE INITIALLY DEFERRED)`);
    const before = await count();
    await expect(
      db.transaction(async (trx) => {
        await trx.raw("INSERT INTO pg_client_probe (v) VALUES (?)", [3]);
        await trx.raw("SELECT ?::int / 0", [1]).options({ commitAfter: true });
      }),
    ).rejects.toThrow("division by zero");
    expect(await count()).toBe(before);

    await expect(
      db.transaction(async (trx) => {
        await trx.raw("INSERT INTO pg_client_probe (v) VALUES (?)", [4]);
        await trx
          .raw("INSERT INTO pg_client_unique (v) VALUES (?), (?)", [5, 5])
          .options({ commitAfter: true });
      }),
    ).rejects.toThrow("pg_client_unique_v"); // a deferred constraint fails at COMMIT
    expect(await count()).toBe(before);
    expect(await db.raw("SELECT 1 AS ok")).toMatchObject({ rows: [{ ok: 1 }] });
  });

  it("ignores commitAfter inside a nested transaction (a savepoint): the outer one still decides", async () => {
    const before = await count();
    events.length = 0;
    await expect(
      db.transaction(async (trx) => {
        await trx.raw("SELECT 1");
        await trx.transaction(async (inner) => {
          await inner.raw("INSERT INTO pg_client_probe (v) VALUES (?)", [6]).options({ commitAfter: true });
        });
        throw new Error("outer fails");
      }),
    ).rejects.toThrow("outer fails");
    expect(events.filter((e) => e.startsWith(">"))).toEqual([
      ">BEGIN; SELECT 1",
      expect.stringMatching(/^>SAVEPOINT /),
      ">INSERT INTO pg_client_probe (v) VALUES ($1)",
      expect.stringMatching(/^>RELEASE SAVEPOINT /),
      ">ROLLBACK",
    ]);
    expect(await count()).toBe(before);
  });

  it("refuses a statement after a commitAfter one", async () => {
    await expect(
      db.transaction(async (trx) => {
        await trx.raw("SELECT ?::int", [1]).options({ commitAfter: true });
        await trx.raw("SELECT 2");
      }),
    ).rejects.toThrow("a statement was sent after the transaction's last one");
    expect(await db.raw("SELECT 1 AS ok")).toMatchObject({ rows: [{ ok: 1 }] });
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

async function count(): Promise<number> {
  const r = (await db.raw("SELECT count(*)::int AS n FROM pg_client_probe")) as { rows: { n: number }[] };
  return r.rows[0]?.n ?? -1;
}
