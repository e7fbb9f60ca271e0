// Gives a test file its own database, cloned from the migrated template.
import { randomBytes } from "node:crypto";
import { inject } from "vitest";
import { createDatabase } from "../../server/db/database.js";
import { withDatabase } from "./global-setup.js";

export interface TestDatabase {
  readonly url: string;
  readonly name: string;
  drop(): Promise<void>;
}

/** A database cloned from the migrated template, or an empty one with `{ empty: true }`. */
export async function createTestDatabase(opts: { empty?: boolean } = {}): Promise<TestDatabase> {
  const adminUrl = inject("adminDatabaseUrl");
  const template = inject("templateDatabase");
  const name = `petrel_test_${randomBytes(5).toString("hex")}`;
  const admin = createDatabase(adminUrl, 1);
  try {
    await admin.raw(`CREATE DATABASE ${name} TEMPLATE ${opts.empty === true ? "template0" : template}`);
  } finally {
    await admin.destroy();
  }
  return {
    url: withDatabase(adminUrl, name),
    name,
    async drop() {
      const db = createDatabase(adminUrl, 1);
      try {
        await db.raw(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await db.destroy();
      }
    },
  };
}
