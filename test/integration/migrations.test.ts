import { describe, expect, it } from "vitest";
import { createDatabase, migrateDatabase } from "../../server/db/database.js";
import { createTestDatabase } from "../support/test-database.js";

describe("migrations", () => {
  it("run once when several replicas start at the same time", async () => {
    const database = await createTestDatabase({ empty: true });
    const replicas = Array.from({ length: 4 }, () => createDatabase(database.url, 2));
    try {
      const applied = await Promise.all(replicas.map((db) => migrateDatabase(db, database.url)));
      const ran = applied.filter((names) => names.length > 0);
      expect(ran).toHaveLength(1);
      const [first] = replicas;
      const rows = await first?.("petrel_migrations").select("name");
      expect(rows?.map((r: { name: string }) => r.name)).toEqual(ran[0]);
      expect(await first?.schema.hasTable("projects")).toBe(true);
      expect(await migrateDatabase(first as NonNullable<typeof first>, database.url)).toEqual([]);
    } finally {
      await Promise.all(replicas.map((db) => db.destroy()));
      await database.drop();
    }
  });
});
