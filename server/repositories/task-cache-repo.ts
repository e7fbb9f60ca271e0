// SQL for cached task outputs.
import type { Knex } from "knex";
import { withDbErrors } from "./pg-errors.js";

export function getCachedOutputs(db: Knex, key: string): Promise<Buffer | undefined> {
  return withDbErrors(
    async () =>
      ((await db("task_cache").select("outputs").where({ key }).first()) as { outputs: Buffer } | undefined)
        ?.outputs,
  );
}

export function putCachedOutputs(
  db: Knex,
  key: string,
  outputs: Buffer,
  sourceExecution: string,
): Promise<void> {
  return withDbErrors(async () => {
    await db("task_cache")
      .insert({ key, outputs, source_execution: sourceExecution })
      .onConflict("key")
      .merge({ outputs, source_execution: sourceExecution, updated_at: db.fn.now() });
  });
}

const RESERVATION_TTL = "10 minutes";

/** Takes (or keeps) the right to compute `key`; false while another owner holds an unexpired reservation. */
export function reserveCacheKey(db: Knex, key: string, owner: string): Promise<boolean> {
  return withDbErrors(async () => {
    const r = await db.raw(
      `INSERT INTO task_cache_reservations (key, owner, expires_at) VALUES (?, ?, now() + interval '${RESERVATION_TTL}')
       ON CONFLICT (key) DO UPDATE SET owner = EXCLUDED.owner, expires_at = EXCLUDED.expires_at
         WHERE task_cache_reservations.expires_at < now() OR task_cache_reservations.owner = EXCLUDED.owner
       RETURNING owner`,
      [key, owner],
    );
    return (r as { rows: unknown[] }).rows.length > 0;
  });
}

export function releaseCacheKey(db: Knex, key: string, owner: string): Promise<void> {
  return withDbErrors(async () => {
    await db("task_cache_reservations").where({ key, owner }).delete();
  });
}
