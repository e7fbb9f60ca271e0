// Shared pieces of the benchmark scripts: a server on a scratch database, timing, and BENCHMARKS.md sections.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import pg from "pg";
import { AdminService } from "../../gen/flyteidl/service/admin_pb.js";
import { startPetrel } from "../../server/app.js";
import { loadConfig } from "../../server/config.js";
import { startEmbeddedPostgres } from "../../server/db/embedded-postgres.js";
import { createLogger } from "../../server/logger.js";
import { startServerProcess } from "../support/server-process.js";
import { QUICK } from "./stats.js";

export interface ScratchOptions {
  /** Postgres as the product runs it (fsync, synchronous commit; the default); false trades durability for speed. */
  readonly durable?: boolean;
  /** Preload pg_stat_statements (counting SQL statements per execution costs a restart at start). */
  readonly statements?: boolean;
}

/** An embedded Postgres in a fresh temporary directory, removed by `stop`. */
export async function scratchPostgres(opts: ScratchOptions = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "petrel-bench-"));
  const start = () =>
    startEmbeddedPostgres({ dir, logger: createLogger("warn"), unsafeFast: opts.durable === false });
  let embedded = await start();
  if (opts.statements === true) {
    const c = new pg.Client({ connectionString: embedded.url });
    await c.connect();
    await c.query("ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'");
    await c.end();
    await embedded.stop();
    embedded = await start();
  }
  const { url, dataDir } = embedded;
  return {
    url,
    /** The URL of another database on this server. */
    urlOf: (database: string) => url.replace(/\/[^/]+$/, `/${database}`),
    /** The server's PETREL_HOME (blobs, task directories), removed with the rest. */
    home: path.join(dir, "home"),
    /** The postmaster's pid (its backends are its children). */
    pid: () => Number(fs.readFileSync(path.join(dataDir, "postmaster.pid"), "utf8").split("\n")[0]),
    async stop() {
      await embedded.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Creates (or recreates, empty) a database on the server of `url`; returns its URL. */
export async function freshDatabase(url: string, name: string): Promise<string> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    await c.query(`DROP DATABASE IF EXISTS ${name}`);
    await c.query(`CREATE DATABASE ${name}`);
  } finally {
    await c.end();
  }
  return url.replace(/\/[^/]+$/, `/${name}`);
}

/** A server in this process on a scratch embedded Postgres (`server.db` is there for seeding). */
export async function startBenchServer() {
  const db = await scratchPostgres();
  const config = loadConfig([], {
    PETREL_GRPC_PORT: "0",
    PETREL_HTTP_PORT: "0",
    PETREL_HOST: "127.0.0.1",
    DATABASE_URL: db.url,
    PETREL_HOME: db.home,
    PETREL_LOG_LEVEL: "warn",
  });
  const server = await startPetrel(config, createLogger("warn"));
  return {
    server,
    admin: createClient(
      AdminService,
      createGrpcTransport({ baseUrl: `http://127.0.0.1:${server.grpcPort}` }),
    ),
    async stop() {
      await server.stop();
      await db.stop();
    },
  };
}

/**
 * `petrel serve` in its own process on a scratch embedded Postgres, as deployed: the benchmark's clients (and the
 * in-process graphile-worker baseline) do not share the server's event loop. `env` adds to the server's environment.
 */
/** CPU time (user + system, ms) of the server process tree, Postgres (all backends) and the benchmark's process. */
export interface CpuTimes {
  readonly server: number;
  readonly postgres: number;
  readonly client: number;
}

/** How long after a measured piece of work its deferred work is counted (see cpuOf). */
const SETTLE_MS = 2_000;

const minus = (b: CpuTimes, a: CpuTimes): CpuTimes => ({
  server: b.server - a.server,
  postgres: b.postgres - a.postgres,
  client: b.client - a.client,
});

export async function startBenchServerProcess(env: Record<string, string> = {}, opts: ScratchOptions = {}) {
  const db = await scratchPostgres(opts);
  const child = await startServerProcess([], {
    DATABASE_URL: db.url,
    PETREL_HOME: db.home,
    PETREL_LOG_LEVEL: "info",
    ...env,
  }).catch(async (err: unknown) => {
    await db.stop();
    throw err;
  });
  const serverPid = child.child.pid ?? 0;
  const cpu = (): CpuTimes => ({
    server: treeCpuMs(serverPid),
    postgres: treeCpuMs(db.pid()),
    client: selfCpuMs(),
  });
  return {
    server: { grpcPort: child.grpcPort, databaseUrl: db.url, pid: serverPid },
    /** The URL of another database on the same Postgres server. */
    urlOf: db.urlOf,
    /** CPU time used so far (user + system, ms) by the server process, Postgres (all backends) and this process. */
    cpu,
    /**
     * The CPU time (as cpu()) spent on `work` and on what it left to do: counted until SETTLE_MS after it ends (the
     * server writes the store copies of blobs and clears their outbox after commit). What the processes use idle in
     * that time is counted too (not subtracted: an idle Postgres's use varies too much to be measured once).
     */
    async cpuOf<T>(work: () => Promise<T>): Promise<{ readonly result: T; readonly cpu: CpuTimes }> {
      const a = cpu();
      const result = await work();
      await new Promise((r) => setTimeout(r, SETTLE_MS));
      return { result, cpu: minus(cpu(), a) };
    },
    admin: createClient(AdminService, createGrpcTransport({ baseUrl: `http://127.0.0.1:${child.grpcPort}` })),
    async stop() {
      await child.stop();
      await db.stop();
    },
  };
}

const TICK_MS = 1000 / 100; // USER_HZ: /proc reports CPU time in 1/100 s

/** User + system CPU (ms) of a process and all its descendants (living ones), from /proc. */
export function treeCpuMs(root: number): number {
  const stats = fs
    .readdirSync("/proc")
    .filter((d) => /^\d+$/.test(d))
    .flatMap((d) => {
      try {
        const f = fs.readFileSync(`/proc/${d}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
        return [{ pid: Number(d), ppid: Number(f[1]), ticks: Number(f[11]) + Number(f[12]) }];
      } catch {
        return []; // exited meanwhile
      }
    });
  const children = new Map<number, number[]>();
  for (const s of stats) children.set(s.ppid, [...(children.get(s.ppid) ?? []), s.pid]);
  const ticks = new Map(stats.map((s) => [s.pid, s.ticks]));
  let total = 0;
  const todo = [root];
  while (todo.length > 0) {
    const pid = todo.pop() as number;
    total += ticks.get(pid) ?? 0;
    todo.push(...(children.get(pid) ?? []));
  }
  return total * TICK_MS;
}

function selfCpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

export interface Stats {
  readonly p50: number;
  readonly p99: number;
  readonly mean: number;
}

export async function measure(iterations: number, fn: () => Promise<unknown>): Promise<Stats> {
  for (let i = 0; i < Math.min(5, iterations); i++) await fn();
  const samples: number[] = [];
  for (let i = 0; i < iterations; i++) {
    const start = performance.now();
    await fn();
    samples.push(performance.now() - start);
  }
  samples.sort((a, b) => a - b);
  const at = (q: number) => samples[Math.min(samples.length - 1, Math.floor(q * samples.length))] ?? 0;
  return { p50: at(0.5), p99: at(0.99), mean: samples.reduce((a, b) => a + b, 0) / samples.length };
}

/** BENCHMARKS.md; a quick smoke run (PETREL_BENCH_QUICK=1) writes a scratch copy in the temp directory instead. */
export const BENCHMARKS_FILE = QUICK
  ? path.join(os.tmpdir(), "petrel-benchmarks-quick.md")
  : path.resolve(import.meta.dirname, "../../BENCHMARKS.md");

/** Replaces (or appends) the `## <title>` section of BENCHMARKS.md. */
export function writeSection(title: string, body: string): void {
  const file = BENCHMARKS_FILE;
  const header =
    "# Benchmarks\n\nEach section is written by the script named in it; numbers are from one run on this repository's 2-core machine.\n";
  const current = fs.existsSync(file) ? fs.readFileSync(file, "utf8") : header;
  const section = `## ${title}\n\n${body.trim()}\n`;
  const re = new RegExp(`## ${title.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\\n[\\s\\S]*?(?=\\n## |$)`);
  const next = re.test(current) ? current.replace(re, section) : `${current.trimEnd()}\n\n${section}`;
  fs.writeFileSync(file, next);
}

export const ms = (n: number): string => `${n.toFixed(2)} ms`;
