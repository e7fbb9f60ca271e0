// Offloaded data (input/output literal maps, task logs). The default store keeps blobs in Postgres; any store
// must accept writes inside the caller's transaction so data and the rows pointing at it commit together.
import type { Knex } from "knex";
import { withDbErrors } from "./pg-errors.js";

export interface DataStore {
  put(db: Knex, uri: string, data: Uint8Array): Promise<void>;
  get(db: Knex, uri: string): Promise<Uint8Array | undefined>;
}

const SCHEME = "pg://petrel/";

/** A store URI from path parts, e.g. dataUri("metadata", project, domain, name, "inputs"). */
export function dataUri(...parts: string[]): string {
  return `${SCHEME}${parts.map((p) => encodeURIComponent(p)).join("/")}`;
}

export class PostgresDataStore implements DataStore {
  put(db: Knex, uri: string, data: Uint8Array): Promise<void> {
    return withDbErrors(async () => {
      await db("data_blobs")
        .insert({ uri, data: Buffer.from(data) })
        .onConflict("uri")
        .merge();
    });
  }

  get(db: Knex, uri: string): Promise<Uint8Array | undefined> {
    return withDbErrors(async () => {
      const row = (await db("data_blobs").select("data").where({ uri }).first()) as
        | { data: Buffer }
        | undefined;
      return row?.data;
    });
  }
}
