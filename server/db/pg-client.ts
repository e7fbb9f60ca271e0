// knex's Postgres client with two changes that save round trips:
// - a transaction's `BEGIN` is not sent on its own but with the transaction's first statement: in front of it when
//   that one has no bind parameters (a simple-protocol message may hold several statements, run in order), else
//   pipelined with it (both written at once, the answers read in order). A transaction that ends before sending
//   anything sends nothing at all. `SET LOCAL` statements sent right after `BEGIN` wait with it, so a transaction's
//   settings cost no round trip either.
// - a statement whose options say `commitAfter` is the transaction's last: its `COMMIT` is pipelined behind it, and
//   knex's own `COMMIT` then answers with that one's result. Only a caller with nothing left that could fail may ask
//   for it (should that statement fail, Postgres answers the `COMMIT` with a rollback). Inside a nested transaction
//   (a savepoint) the option is ignored: its end is not the transaction's.
import { createRequire } from "node:module";
import type { Knex } from "knex";

interface QueryObject {
  sql: string;
  bindings?: readonly unknown[];
  options?: { readonly name?: string; readonly commitAfter?: boolean };
  response?: unknown;
}

interface PgConnection {
  /** What waits to be sent in front of the transaction's first statement (`BEGIN;` and settings). */
  [DEFERRED]?: string;
  /** The answer to a `COMMIT` already sent behind the transaction's last statement. */
  [COMMITTING]?: Promise<QueryObject>;
  /** How many savepoints (knex's nested transactions) are open. */
  [SAVEPOINTS]?: number;
  /** node-pg's pipeline mode: queries are written without waiting for the answers to those before. */
  pipeline: boolean;
}

type BaseClient = new (
  config: Knex.Config,
) => { _query(connection: PgConnection, obj: QueryObject): Promise<QueryObject> };

const require = createRequire(import.meta.url);
const KnexPgClient = require("knex/lib/dialects/postgres/index.js") as BaseClient;
const DEFERRED = Symbol("petrel.deferredBegin");
const COMMITTING = Symbol("petrel.committing");
const SAVEPOINTS = Symbol("petrel.savepoints");
const empty = (command: string) => ({ command, rowCount: null, rows: [], fields: [] });
const SETTING = /^SET LOCAL [a-z_]+ = [a-z_0-9]+;?$/;

export class PetrelPgClient extends KnexPgClient {
  override async _query(connection: PgConnection, obj: QueryObject): Promise<QueryObject> {
    const committing = connection[COMMITTING];
    if (committing !== undefined) {
      delete connection[COMMITTING];
      if (obj.sql === "COMMIT;") return Object.assign(obj, { response: (await committing).response });
      await committing.catch(() => undefined);
      if (obj.sql !== "ROLLBACK") throw new Error("a statement was sent after the transaction's last one");
      return Object.assign(obj, { response: empty("ROLLBACK") }); // the COMMIT has ended the transaction
    }
    if (obj.sql.startsWith("SAVEPOINT ")) connection[SAVEPOINTS] = (connection[SAVEPOINTS] ?? 0) + 1;
    else if (obj.sql.startsWith("RELEASE SAVEPOINT ") || obj.sql.startsWith("ROLLBACK TO SAVEPOINT "))
      connection[SAVEPOINTS] = (connection[SAVEPOINTS] ?? 1) - 1;
    if (obj.sql === "BEGIN;") {
      delete connection[SAVEPOINTS];
      connection[DEFERRED] = "BEGIN;";
      return Object.assign(obj, { response: empty("BEGIN") });
    }
    const prefix = connection[DEFERRED];
    const plain = (obj.bindings?.length ?? 0) === 0 && obj.options?.name === undefined;
    if (prefix !== undefined && plain && SETTING.test(obj.sql)) {
      connection[DEFERRED] = `${prefix} ${obj.sql.replace(/;?$/, ";")}`;
      return Object.assign(obj, { response: empty("SET") });
    }
    delete connection[DEFERRED];
    if (prefix !== undefined && (obj.sql === "COMMIT;" || obj.sql === "ROLLBACK"))
      return Object.assign(obj, { response: empty(obj.sql.replace(";", "")) });
    const commit = obj.options?.commitAfter === true && (connection[SAVEPOINTS] ?? 0) === 0;
    if (prefix !== undefined && plain && !commit) return this.merged(connection, prefix, obj);
    if (prefix === undefined && !commit) return super._query(connection, obj);
    const { answers, done } = this.pipelined(connection, [
      ...(prefix !== undefined ? [{ sql: prefix, bindings: [] }] : []),
      obj,
      ...(commit ? [{ sql: "COMMIT;", bindings: [] }] : []),
    ]);
    if (commit) {
      const last = done.then(() => answers[answers.length - 1] as Promise<QueryObject>);
      last.catch(() => undefined); // awaited by knex's COMMIT or ROLLBACK
      connection[COMMITTING] = last;
    } else await done;
    for (const answer of commit ? answers.slice(0, -1) : answers) await answer;
    return obj;
  }

  /** Sends `prefix` and a statement without bind parameters as one simple-protocol message. */
  private async merged(connection: PgConnection, prefix: string, obj: QueryObject): Promise<QueryObject> {
    const merged = await super._query(connection, { ...obj, sql: `${prefix} ${obj.sql}` });
    const results = merged.response as unknown[];
    const skipped = prefix.split(";").length - 1;
    obj.response = results.length === skipped + 1 ? results[skipped] : results.slice(skipped);
    return obj;
  }

  /**
   * Writes the queries at once on this idle connection (node-pg's pipeline mode, on until every answer is in: `done`
   * settles then); their answers come in order.
   */
  private pipelined(
    connection: PgConnection,
    queries: readonly QueryObject[],
  ): { answers: Promise<QueryObject>[]; done: Promise<void> } {
    connection.pipeline = true;
    const answers = queries.map((q) => super._query(connection, q));
    const done = Promise.allSettled(answers).then(() => {
      connection.pipeline = false;
    });
    return { answers, done };
  }
}
