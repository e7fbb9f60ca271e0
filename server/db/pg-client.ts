// knex's Postgres client with one change: a transaction's `BEGIN` is not sent on its own but in front of the
// transaction's first statement when that one has no bind parameters (a simple-protocol message may hold several
// statements, run in order). Every engine transaction starts with such a statement (locking its executions), so
// each saves a round trip. A transaction that ends before sending anything sends nothing at all. `SET LOCAL`
// statements sent right after `BEGIN` wait with it, so a transaction's settings cost no round trip either.
import { createRequire } from "node:module";
import type { Knex } from "knex";

interface QueryObject {
  sql: string;
  bindings?: readonly unknown[];
  options?: { readonly name?: string };
  response?: unknown;
}

interface PgConnection {
  /** What waits to be sent in front of the transaction's first statement (`BEGIN;` and settings). */
  [DEFERRED]?: string;
}

type BaseClient = new (
  config: Knex.Config,
) => { _query(connection: PgConnection, obj: QueryObject): Promise<QueryObject> };

const require = createRequire(import.meta.url);
const KnexPgClient = require("knex/lib/dialects/postgres/index.js") as BaseClient;
const DEFERRED = Symbol("petrel.deferredBegin");
const empty = (command: string) => ({ command, rowCount: null, rows: [], fields: [] });
const SETTING = /^SET LOCAL [a-z_]+ = [a-z_0-9]+;?$/;

export class PetrelPgClient extends KnexPgClient {
  override async _query(connection: PgConnection, obj: QueryObject): Promise<QueryObject> {
    if (obj.sql === "BEGIN;") {
      connection[DEFERRED] = "BEGIN;";
      obj.response = empty("BEGIN");
      return obj;
    }
    const prefix = connection[DEFERRED];
    if (prefix === undefined) return super._query(connection, obj);
    const plain = (obj.bindings?.length ?? 0) === 0 && obj.options?.name === undefined;
    if (plain && SETTING.test(obj.sql)) {
      connection[DEFERRED] = `${prefix} ${obj.sql.replace(/;?$/, ";")}`;
      obj.response = empty("SET");
      return obj;
    }
    delete connection[DEFERRED];
    if (obj.sql === "COMMIT;" || obj.sql === "ROLLBACK") {
      obj.response = empty(obj.sql.replace(";", ""));
      return obj;
    }
    if (!plain) {
      await super._query(connection, { sql: prefix, bindings: [] });
      return super._query(connection, obj);
    }
    const merged = await super._query(connection, { ...obj, sql: `${prefix} ${obj.sql}` });
    const results = merged.response as unknown[];
    const skipped = prefix.split(";").length - 1;
    obj.response = results.length === skipped + 1 ? results[skipped] : results.slice(skipped);
    return obj;
  }
}
