// Integration setup: one Postgres for the whole run (embedded, or TEST_DATABASE_URL), with a migrated template
// database that every test file clones into a database of its own.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { TestProject } from "vitest/node";
import { createDatabase, migrateDatabase } from "../../server/db/database.js";
import { startEmbeddedPostgres } from "../../server/db/embedded-postgres.js";
import { createLogger } from "../../server/logger.js";
import { externalEndpoint } from "./external-server.js";

declare module "vitest" {
  export interface ProvidedContext {
    /** URL of a database on the test server; its name is replaced per test file. */
    adminDatabaseUrl: string;
    templateDatabase: string;
  }
}

const TEMPLATE = "petrel_template";

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // Against an external server (PETREL_TEST_ENDPOINT) the tests have no database of their own.
  if (externalEndpoint !== undefined) return async () => {};
  const logger = createLogger("warn");
  const external = process.env.TEST_DATABASE_URL;
  const dir = path.join(os.tmpdir(), `petrel-test-pg-${process.pid}`);
  const embedded =
    external === undefined || external === ""
      ? await startEmbeddedPostgres({
          dir,
          logger,
          unsafeFast: true,
          database: "postgres",
        })
      : undefined;
  const adminUrl = embedded?.url ?? (external as string);
  const admin = createDatabase(adminUrl, 2);
  await admin.raw(`DROP DATABASE IF EXISTS ${TEMPLATE}`);
  await admin.raw(`CREATE DATABASE ${TEMPLATE}`);
  const templateUrl = withDatabase(adminUrl, TEMPLATE);
  const template = createDatabase(templateUrl, 2);
  await migrateDatabase(template, templateUrl);
  await template.destroy();
  await admin.destroy();
  project.provide("adminDatabaseUrl", adminUrl);
  project.provide("templateDatabase", TEMPLATE);
  return async () => {
    await embedded?.stop();
    // The run's Postgres files go with it (left behind, every run would add thousands of files to the temp directory).
    if (embedded !== undefined) fs.rmSync(dir, { recursive: true, force: true });
  };
}

export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}
