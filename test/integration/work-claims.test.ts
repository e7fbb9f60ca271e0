// Engines claiming from one queue at once never claim an item twice: each item goes to exactly one of them, also
// when a claim commits while another engine's claim statement is running (its snapshot still shows the item free).
import type { Knex } from "knex";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDatabase } from "../../server/db/database.js";
import { claimWork } from "../../server/repositories/work-repo.js";
import { createTestDatabase, type TestDatabase } from "../support/test-database.js";

const ITEMS = 3_000;
const ENGINES = 6;
let database: TestDatabase;
let dbs: Knex[] = [];

beforeAll(async () => {
  database = await createTestDatabase();
  dbs = Array.from({ length: ENGINES }, () => createDatabase(database.url, 2));
  const [db] = dbs;
  await db?.raw(
    `INSERT INTO workflows (project, domain, name, version, digest, typed_interface, closure)
     VALUES ('p', 'd', 'wf', 'v1', 'digest', '\\x00', '\\x00')`,
  );
  await db?.raw(
    `INSERT INTO executions (execution_project, execution_domain, execution_name, workflow_id, phase, spec, closure)
     VALUES ('p', 'd', 'e', (SELECT id FROM workflows), 'RUNNING', '\\x00', '\\x00')`,
  );
});

afterAll(async () => {
  for (const db of dbs) await db.destroy();
  await database?.drop();
});

describe("claiming work from several engines at once", () => {
  it("gives every item to exactly one engine", async () => {
    for (let round = 0; round < 3; round++) {
      const [db] = dbs;
      await db?.raw("DELETE FROM work_items");
      await db?.raw(
        `INSERT INTO work_items (execution_id, kind, node_id, attempt, run_after)
         SELECT (SELECT id FROM executions), 'run_task', 'n' || g, 0, now() - interval '1 second'
           FROM generate_series(1, ?) g`,
        [ITEMS],
      );
      const claimed = await Promise.all(
        dbs.map(async (engine, i) => {
          const mine: string[] = [];
          for (;;) {
            const { items } = await claimWork(engine, `engine-${i}`, 4, 60_000);
            if (items.length === 0) return mine;
            mine.push(...items.map((x) => String(x.id)));
          }
        }),
      );
      const all = claimed.flat();
      const twice = all.filter((id, k) => all.indexOf(id) !== k);
      expect(twice, `round ${round}: items claimed by two engines`).toEqual([]);
      expect(all).toHaveLength(ITEMS);
    }
  });
});
