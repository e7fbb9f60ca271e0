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
