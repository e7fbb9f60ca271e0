// What Postgres did for a stretch of work: SQL statements of one database (pg_stat_statements, counted as they end),
// committed write transactions and WAL bytes of the cluster (pg_walinspect over the WAL written meanwhile), and
// the bytes a database retains (pg_total_relation_size of its tables after VACUUM FULL).
import pg from "pg";

/** Statements that only open or close a transaction, counted apart from the rest. */
const TRANSACTION_CONTROL = ["BEGIN", "COMMIT", "ROLLBACK", "START TRANSACTION"];

export interface Counters {
  /** SQL statements other than BEGIN / COMMIT / ROLLBACK. */
  readonly statements: number;
  /** COMMIT statements (explicit transactions). */
  readonly explicitCommits: number;
  /** WAL commit records: committed transactions that wrote anything (each one waits for its fsync). */
  readonly writeCommits: number;
  readonly walBytes: number;
  readonly seconds: number;
}

/** Reads the counters through a connection to the `postgres` database (its own queries are not counted). */
export async function openCounters(url: string, database: string) {
  const c = new pg.Client({ connectionString: url.replace(/\/[^/]+$/, "/postgres") });
  await c.connect();
  await c.query("CREATE EXTENSION IF NOT EXISTS pg_stat_statements");
  await c.query("CREATE EXTENSION IF NOT EXISTS pg_walinspect");
  const oid = (await c.query<{ oid: number }>("SELECT oid FROM pg_database WHERE datname = $1", [database]))
    .rows[0]?.oid;
  if (oid === undefined) throw new Error(`no database ${database}`);

  async function snapshot() {
    const s = await c.query<{ control: boolean; commits: string; calls: string }>(
      `SELECT q = ANY($2) AS control, sum(calls) FILTER (WHERE q = 'COMMIT') AS commits, sum(calls) AS calls
         FROM (SELECT upper(rtrim(query, '; ')) AS q, calls FROM pg_stat_statements WHERE dbid = $1) s
        GROUP BY 1`,
      [oid, TRANSACTION_CONTROL],
    );
    const lsn = (await c.query<{ lsn: string }>("SELECT pg_current_wal_flush_lsn() AS lsn")).rows[0]?.lsn;
    const of = (control: boolean) => s.rows.find((r) => r.control === control);
    return {
      statements: Number(of(false)?.calls ?? 0),
      commits: Number(of(true)?.commits ?? 0),
      lsn: lsn ?? "0/0",
    };
  }

  /** The counters over the work `fn` does. */
  async function during(fn: () => Promise<void>): Promise<Counters> {
    const a = await snapshot();
    const started = performance.now();
    await fn();
    const seconds = (performance.now() - started) / 1000;
    const b = await snapshot();
    const wal = await c.query<{ commits: string | null; bytes: string | null }>(
      `SELECT sum(1) FILTER (WHERE resource_manager = 'Transaction' AND record_type LIKE 'COMMIT%') AS commits,
              pg_wal_lsn_diff($2::pg_lsn, $1::pg_lsn) AS bytes
         FROM pg_get_wal_records_info($1::pg_lsn, $2::pg_lsn)`,
      [a.lsn, b.lsn],
    );
    return {
      statements: b.statements - a.statements,
      explicitCommits: b.commits - a.commits,
      writeCommits: Number(wal.rows[0]?.commits ?? 0),
      walBytes: Number(wal.rows[0]?.bytes ?? 0),
      seconds,
    };
  }

  return { during, close: () => c.end() };
}

/**
 * Bytes of all tables (with their indexes and TOAST) outside the system schemas, after VACUUM FULL: the data the
 * database retains, without the free space plain VACUUM leaves inside the files (which new rows reuse).
 */
export async function retainedBytes(url: string): Promise<number> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const tables = await c.query<{ oid: number; name: string }>(
      `SELECT c.oid, format('%I.%I', n.nspname, c.relname) AS name
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind IN ('r', 'm') AND n.nspname NOT IN ('pg_catalog', 'information_schema')
          AND n.nspname NOT LIKE 'pg_toast%'`,
    );
    if (tables.rows.length === 0) return 0;
    await c.query(`VACUUM (FULL) ${tables.rows.map((t) => t.name).join(", ")}`);
    const r = await c.query<{ bytes: string | null }>(
      "SELECT sum(pg_total_relation_size(oid)) AS bytes FROM unnest($1::oid[]) AS oid",
      [tables.rows.map((t) => t.oid)],
    );
    return Number(r.rows[0]?.bytes ?? 0);
  } finally {
    await c.end();
  }
}
