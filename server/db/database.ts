// Creates the knex instance (the composition root owns it) and runs migrations under an advisory lock.
import knexFactory, { type Knex } from "knex";
import pg from "pg";
import type { Logger } from "../logger.js";
import { migrationSource } from "../repositories/migrations/index.js";
import { PetrelPgClient } from "./pg-client.js";
import { PG_TYPES } from "./pg-types.js";

/** Arbitrary constant: the advisory lock that serialises migrations of concurrently starting replicas. */
const MIGRATION_LOCK_KEY = 0x7065_7472;

/**
 * A pooled connection that broke (the database restarted, the network dropped it) is discarded when next taken, and
 * a new one made. knex's own messages (about those, say) go to `logger`, or to the console without one.
 */
export function createDatabase(url: string, poolMax: number, logger?: Logger): Knex {
  const text = (msg: unknown) => `knex: ${msg instanceof Error ? msg.message : String(msg)}`;
  const log: Knex.Logger | undefined =
    logger === undefined
      ? undefined
      : {
          warn: (m) => logger.warn(text(m)),
          error: (m) => logger.warn(text(m)),
          debug: (m) => logger.debug(text(m)),
          deprecate: (method, alternative) => logger.warn(text(`${method} is deprecated: ${alternative}`)),
        };
  return knexFactory({
    client: PetrelPgClient as unknown as typeof Knex.Client,
    connection: { connectionString: url, application_name: "petrel", types: PG_TYPES },
    pool: { min: 0, max: poolMax },
    acquireConnectionTimeout: 30_000,
    ...(log === undefined ? {} : { log }),
  });
}

/** Applies pending migrations. Safe when several replicas start at once: one migrates, the others wait. */
export async function migrateDatabase(db: Knex, url: string): Promise<string[]> {
  const lock = new pg.Client({ connectionString: url, application_name: "petrel-migrate" });
  await lock.connect();
  try {
    await lock.query("SELECT pg_advisory_lock($1)", [MIGRATION_LOCK_KEY]);
    const [, applied] = (await db.migrate.latest({ migrationSource, tableName: "petrel_migrations" })) as [
      number,
      string[],
    ];
    return applied;
  } finally {
    await lock.query("SELECT pg_advisory_unlock($1)", [MIGRATION_LOCK_KEY]).catch(() => undefined);
    await lock.end();
  }
}
