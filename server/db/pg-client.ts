// knex's Postgres client with one change: a transaction's `BEGIN` is not sent on its own but in front of the
// transaction's first statement when that one has no bind parameters (a simple-protocol message may hold several
// statements, run in order). Every engine transaction starts with such a statement (locking its executions), so
// each saves a round trip. A transaction that ends before sending anything sends nothing at all.
import { createRequire } from "node:module";
import type { Knex } from "knex";

interface QueryObject {
  sql: string;
  bindings?: readonly unknown[];
  options?: { readonly name?: string };
  response?: unknown;
}

interface PgConnection {
  [DEFERRED]?: boolean;
}

type BaseClient = new (
  config: Knex.Config,
) => { _query(connection: PgConnection, obj: QueryObject): Promise<QueryObject> };

const require = createRequire(import.meta.url);
const KnexPgClient = require("knex/lib/dialects/postgres/index.js") as BaseClient;
const DEFERRED = Symbol("petrel.deferredBegin");
const empty = (command: string) => ({ command, rowCount: null, rows: [], fields: [] });

export class PetrelPgClient extends KnexPgClient {
  override async _query(connection: PgConnection, obj: QueryObject): Promise<QueryObject> {
    if (obj.sql === "BEGIN;") {
      connection[DEFERRED] = true;
      obj.response = empty("BEGIN");
      return obj;
    }
    if (connection[DEFERRED] !== true) return super._query(connection, obj);
    connection[DEFERRED] = false;
    if (obj.sql === "COMMIT;" || obj.sql === "ROLLBACK") {
      obj.response = empty(obj.sql.replace(";", ""));
      return obj;
    }
    if ((obj.bindings?.length ?? 0) > 0 || obj.options?.name !== undefined) {
      await super._query(connection, { sql: "BEGIN;", bindings: [] });
      return super._query(connection, obj);
    }
    const merged = await super._query(connection, { ...obj, sql: `BEGIN; ${obj.sql}` });
    const results = merged.response as unknown[];
    obj.response = results.length === 2 ? results[1] : results.slice(1);
    return obj;
  }
}
