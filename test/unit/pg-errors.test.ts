import net from "node:net";
import os from "node:os";
import path from "node:path";
import knexFactory, { type Knex } from "knex";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AppError, Code } from "../../server/errors.js";
import { mapDbError, withDbErrors } from "../../server/repositories/pg-errors.js";

/** An error as node-postgres builds it from a server ErrorResponse. */
function pgError(code: string, message: string, extra: Partial<pg.DatabaseError> = {}): pg.DatabaseError {
  return Object.assign(new pg.DatabaseError(message, message.length, "error"), { code, ...extra });
}

/** The mapped error, checked to carry the original as its cause and to quote none of its text. */
function mapped(err: Error, secret: string | RegExp = err.message): AppError {
  const m = mapDbError(err);
  expect(m.cause).toBe(err);
  if (typeof secret === "string") expect(m.message).not.toContain(secret);
  else expect(m.message).not.toMatch(secret);
  return m;
}

describe("mapDbError", () => {
  it("answers a unique violation with FlyteAdmin's text naming the entity, never the constraint", () => {
    const err = pgError("23505", 'duplicate key value violates unique constraint "executions_pkey_name"', {
      table: "executions",
      constraint: "executions_pkey_name",
      detail: "Key (execution_project, execution_domain, execution_name)=(p, d, n) already exists.",
    });
    const m = mapped(err, /pkey|duplicate key|Key \(/);
    expect({ code: m.code, message: m.message }).toEqual({
      code: Code.AlreadyExists,
      message: "value with matching already exists (duplicate execution)",
    });
    const other = mapped(pgError("23505", 'duplicate key value violates unique constraint "x_key"', {}));
    expect(other.message).toBe("value with matching already exists (duplicate entry)");
  });

  it("answers UNAVAILABLE with no detail for every kind of outage", () => {
    const outages: Error[] = [
      Object.assign(new Error("connect ECONNREFUSED /var/run/postgresql/.s.PGSQL.5432"), {
        code: "ECONNREFUSED",
      }),
      Object.assign(new Error("read ECONNRESET"), { code: "ECONNRESET" }),
      Object.assign(new Error("connect ENOENT /tmp/petrel/run/.s.PGSQL.5432"), { code: "ENOENT" }),
      pgError("57P01", "terminating connection due to administrator command"),
      pgError("57P02", "terminating connection due to crash of another server process"),
      pgError("57P03", "the database system is starting up"),
      pgError("08006", "connection failure"),
      pgError("08001", "could not connect"),
      pgError("53100", 'could not extend file "base/16384/16397": No space left on device'),
      pgError("53300", "sorry, too many clients already"),
      pgError("58030", 'could not read block 0 in file "base/16384/16397": Input/output error'),
      pgError("3D000", 'database "petrel" does not exist'),
      new Error("Connection terminated unexpectedly"),
      new Error("Connection terminated"),
      new Error("Client has encountered a connection error and is not queryable"),
      Object.assign(new Error("Knex: Timeout acquiring a connection. The pool is probably full."), {
        name: "KnexTimeoutError",
      }),
      new Error("Unable to acquire a connection"),
      new Error("aborted"),
    ];
    for (const err of outages) {
      const m = mapped(err);
      expect({ code: m.code, message: m.message }, err.message).toEqual({
        code: Code.Unavailable,
        message: "database unavailable",
      });
    }
  });

  it("answers INVALID_ARGUMENT with a generic text for values the database refused", () => {
    const cases: [string, string][] = [
      ["22021", 'invalid byte sequence for encoding "UTF8": 0x00'],
      ["22003", 'value "99999999999999999999" is out of range for type bigint'],
      ["22P02", 'invalid input syntax for type bigint: "x"'],
      ["22007", 'invalid input syntax for type timestamp with time zone: "2020"'],
      ["22008", 'date/time field value out of range: "0000-01-01"'],
      ["22025", "LIKE pattern must not end with escape character"],
      ["22012", "division by zero"],
    ];
    for (const [code, message] of cases) {
      const m = mapped(pgError(code, message), /"|type|LIKE|division/);
      expect(m.code, code).toBe(Code.InvalidArgument);
      expect(m.message).toMatch(/^invalid value: /);
    }
  });

  it("answers INVALID_ARGUMENT for a value beyond the database's limits (an index entry too large)", () => {
    const cases: [string, string, string][] = [
      [
        "54000",
        'index row size 9000 exceeds btree version 4 maximum 2704 for index "data_blobs_pkey"',
        "a value is too large to store",
      ],
      ["54000", "index row requires 12000 bytes, maximum size is 8191", "a value is too large to store"],
      ["54001", "stack depth limit exceeded", "a request is too complex"],
      ["54023", "cannot pass more than 100 arguments to a function", "a request exceeds a database limit"],
    ];
    for (const [code, message, why] of cases) {
      const m = mapped(pgError(code, message), /index|bytes|stack|arguments/);
      expect({ code: m.code, message: m.message }).toEqual({
        code: Code.InvalidArgument,
        message: `invalid value: ${why}`,
      });
    }
  });

  it("answers ABORTED for a serialization failure or deadlock that escaped the retries", () => {
    for (const code of ["40001", "40P01"]) {
      const m = mapped(pgError(code, "could not serialize access due to concurrent update"));
      expect(m.code).toBe(Code.Aborted);
    }
  });

  it("answers INTERNAL with a generic text for everything else", () => {
    const others: Error[] = [
      pgError("42P01", 'relation "executions" does not exist'),
      pgError("23503", 'insert or update on table "node_executions" violates foreign key constraint "fk"'),
      pgError("08P01", "bind message supplies 4 parameters, but prepared statement requires 0"),
      new TypeError("Cannot read properties of undefined (reading 'id')"),
    ];
    for (const err of others) {
      const m = mapped(err);
      expect({ code: m.code, message: m.message }).toEqual({
        code: Code.Internal,
        message: "failed database operation",
      });
    }
    expect(mapDbError("a string").message).toBe("failed database operation");
  });

  it("lets AppErrors through unchanged", () => {
    const app = new AppError(Code.NotFound, "missing entity");
    expect(mapDbError(app)).toBe(app);
  });
});

describe("withDbErrors over real connections that fail", () => {
  const dir = path.join(os.tmpdir(), `petrel-pg-errors-${process.pid}`);
  let dropper: net.Server;
  const sockets = new Set<net.Socket>();

  beforeAll(async () => {
    // A "server" that hangs up on every connection at once, and one that never answers.
    dropper = net.createServer((s) => s.destroy());
    await new Promise<void>((r) => dropper.listen(0, "127.0.0.1", r));
  });

  afterAll(async () => {
    for (const s of sockets) s.destroy();
    await new Promise((r) => dropper.close(r));
  });

  async function failure(
    connection: Knex.PgConnectionConfig,
    acquireConnectionTimeout = 5_000,
    beforeDestroy = () => {},
  ): Promise<AppError> {
    const quiet = () => {};
    const db = knexFactory({
      client: "pg",
      connection,
      pool: { min: 0, max: 1 },
      acquireConnectionTimeout,
      log: { warn: quiet, error: quiet, debug: quiet, deprecate: quiet },
    });
    try {
      await withDbErrors(() => db.raw("SELECT 1"));
    } catch (err) {
      expect(err).toBeInstanceOf(AppError);
      return err as AppError;
    } finally {
      beforeDestroy();
      await db.destroy();
    }
    throw new Error("the query succeeded");
  }

  it("never shows the socket path of a database that is not there", async () => {
    const err = await failure({ host: dir, port: 5432, user: "u", database: "d" });
    expect({ code: err.code, message: err.message }).toEqual({
      code: Code.Unavailable,
      message: "database unavailable",
    });
    expect(String((err.cause as Error).message)).toContain(dir);
  });

  it("maps a connection the server drops", async () => {
    const port = (dropper.address() as net.AddressInfo).port;
    const err = await failure({ host: "127.0.0.1", port, user: "u", database: "d" });
    expect({ code: err.code, message: err.message }).toEqual({
      code: Code.Unavailable,
      message: "database unavailable",
    });
  });

  it("maps a pool that times out waiting for a connection", async () => {
    const silent = net.createServer((s) => sockets.add(s));
    await new Promise<void>((r) => silent.listen(0, "127.0.0.1", r));
    try {
      const port = (silent.address() as net.AddressInfo).port;
      const hangUp = () => {
        for (const s of sockets) s.destroy();
      };
      const err = await failure({ host: "127.0.0.1", port, user: "u", database: "d" }, 200, hangUp);
      expect({ code: err.code, message: err.message }).toEqual({
        code: Code.Unavailable,
        message: "database unavailable",
      });
      expect((err.cause as Error).name).toBe("KnexTimeoutError");
    } finally {
      await new Promise((r) => silent.close(r));
    }
  });
});
