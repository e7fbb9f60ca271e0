// The only reader of process.env: flags and environment variables map to one frozen, validated config.
import path from "node:path";

export interface DomainConfig {
  readonly id: string;
  readonly name: string;
}

export type TaskRuntime = "process" | "docker";
export type LogLevel = "debug" | "info" | "warn" | "error" | "silent";

export interface PetrelConfig {
  readonly host: string;
  readonly grpcPort: number;
  readonly httpPort: number;
  readonly databaseUrl: string | undefined;
  readonly home: string;
  readonly domains: readonly DomainConfig[];
  readonly logLevel: LogLevel;
  readonly taskRuntime: TaskRuntime;
  readonly dbPoolMax: number;
  /** Run the engine in this process (off: an external engine drives executions through the event rpcs). */
  readonly engine: boolean;
  /** How long a claimed work item stays leased without a heartbeat (a crashed replica's work is retaken after). */
  readonly engineLeaseMs: number;
  /** Launch scheduled launch plans from this process (replicas share the work). */
  readonly scheduler: boolean;
}

export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "ConfigError";
  }
}

interface Setting {
  readonly flag: string;
  readonly env: string;
}

const SETTINGS = {
  host: { flag: "--host", env: "PETREL_HOST" },
  grpcPort: { flag: "--grpc-port", env: "PETREL_GRPC_PORT" },
  httpPort: { flag: "--http-port", env: "PETREL_HTTP_PORT" },
  databaseUrl: { flag: "--database-url", env: "DATABASE_URL" },
  home: { flag: "--home", env: "PETREL_HOME" },
  domains: { flag: "--domains", env: "PETREL_DOMAINS" },
  logLevel: { flag: "--log-level", env: "PETREL_LOG_LEVEL" },
  taskRuntime: { flag: "--task-runtime", env: "PETREL_TASK_RUNTIME" },
  dbPoolMax: { flag: "--db-pool-max", env: "PETREL_DB_POOL_MAX" },
  engine: { flag: "--engine", env: "PETREL_ENGINE" },
  engineLeaseMs: { flag: "--engine-lease-ms", env: "PETREL_ENGINE_LEASE_MS" },
  scheduler: { flag: "--scheduler", env: "PETREL_SCHEDULER" },
} as const satisfies Record<keyof PetrelConfig, Setting>;

export const CONFIG_SETTINGS: Readonly<Record<string, Setting>> = SETTINGS;

const DEFAULT_DOMAINS = ["development", "staging", "production"];
const LOG_LEVELS: readonly LogLevel[] = ["debug", "info", "warn", "error", "silent"];
const TASK_RUNTIMES: readonly TaskRuntime[] = ["process", "docker"];
const DOMAIN_ID = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** Splits `--flag value` / `--flag=value` arguments; unknown flags are reported as problems. */
function parseFlags(argv: readonly string[], problems: string[]): Map<string, string> {
  const known = new Set<string>(Object.values(SETTINGS).map((s) => s.flag));
  const flags = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? "";
    if (!arg.startsWith("--")) {
      problems.push(`unexpected argument "${arg}"`);
      continue;
    }
    const eq = arg.indexOf("=");
    const name = eq >= 0 ? arg.slice(0, eq) : arg;
    if (!known.has(name)) {
      problems.push(`unknown flag ${name}`);
      continue;
    }
    let value: string | undefined = eq >= 0 ? arg.slice(eq + 1) : argv[i + 1];
    if (eq < 0) i++;
    if (value === undefined) {
      problems.push(`flag ${name} needs a value`);
      value = "";
    }
    flags.set(name, value);
  }
  return flags;
}

function parsePort(raw: string, source: string, problems: string[]): number {
  const port = /^\d+$/.test(raw) ? Number.parseInt(raw, 10) : Number.NaN;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    problems.push(`${source}: "${raw}" is not a port (0-65535; 0 picks a free port)`);
    return 0;
  }
  return port;
}

function parseDomains(raw: string, source: string, problems: string[]): DomainConfig[] {
  const ids = raw
    .split(",")
    .map((d) => d.trim())
    .filter((d) => d !== "");
  if (ids.length === 0) problems.push(`${source}: at least one domain is required`);
  for (const id of ids) {
    if (!DOMAIN_ID.test(id)) problems.push(`${source}: "${id}" is not a valid domain id`);
  }
  if (new Set(ids).size !== ids.length) problems.push(`${source}: domains must be unique`);
  return ids.map((id) => ({ id, name: id }));
}

function oneOf<T extends string>(raw: string, allowed: readonly T[], source: string, problems: string[]): T {
  if ((allowed as readonly string[]).includes(raw)) return raw as T;
  problems.push(`${source}: "${raw}" must be one of ${allowed.join(", ")}`);
  return allowed[0] as T;
}

/**
 * Builds the config from command-line flags (highest precedence), then environment variables, then defaults.
 * Every problem is collected and reported at once in a ConfigError.
 */
export function loadConfig(
  argv: readonly string[] = [],
  env: NodeJS.ProcessEnv = process.env,
  cwd: string = process.cwd(),
): PetrelConfig {
  const problems: string[] = [];
  const flags = parseFlags(argv, problems);
  const read = (key: keyof typeof SETTINGS): { value: string; source: string } | undefined => {
    const s = SETTINGS[key];
    const fromFlag = flags.get(s.flag);
    if (fromFlag !== undefined) return { value: fromFlag, source: s.flag };
    const fromEnv = env[s.env];
    if (fromEnv !== undefined && fromEnv !== "") return { value: fromEnv, source: s.env };
    return undefined;
  };
  const grpc = read("grpcPort");
  const http = read("httpPort");
  const db = read("databaseUrl");
  const domains = read("domains");
  const log = read("logLevel");
  const runtime = read("taskRuntime");
  const pool = read("dbPoolMax");
  const engine = read("engine");
  const scheduler = read("scheduler");
  const lease = read("engineLeaseMs");
  const engineLeaseMs = lease === undefined ? 30_000 : Number(lease.value);
  if (!Number.isInteger(engineLeaseMs) || engineLeaseMs < 500) {
    problems.push(`${lease?.source}: "${lease?.value}" must be an integer of at least 500 (milliseconds)`);
  }
  const home = read("home")?.value ?? ".petrel";

  if (db !== undefined && !/^postgres(ql)?:\/\//.test(db.value)) {
    problems.push(`${db.source}: must be a postgres:// or postgresql:// URL`);
  }
  const dbPoolMax = pool === undefined ? 10 : Number(pool.value);
  if (!Number.isInteger(dbPoolMax) || dbPoolMax < 1 || dbPoolMax > 1000) {
    problems.push(`${pool?.source ?? "pool"}: "${pool?.value}" must be an integer from 1 to 1000`);
  }
  const config: PetrelConfig = {
    host: read("host")?.value ?? "0.0.0.0",
    grpcPort: grpc === undefined ? 8089 : parsePort(grpc.value, grpc.source, problems),
    httpPort: http === undefined ? 8088 : parsePort(http.value, http.source, problems),
    databaseUrl: db?.value,
    home: path.resolve(cwd, home),
    domains:
      domains === undefined
        ? DEFAULT_DOMAINS.map((id) => ({ id, name: id }))
        : parseDomains(domains.value, domains.source, problems),
    logLevel: log === undefined ? "info" : oneOf(log.value, LOG_LEVELS, log.source, problems),
    taskRuntime:
      runtime === undefined ? "process" : oneOf(runtime.value, TASK_RUNTIMES, runtime.source, problems),
    dbPoolMax,
    engineLeaseMs,
    scheduler:
      scheduler === undefined ||
      oneOf(scheduler.value, ["on", "off"] as const, scheduler.source, problems) === "on",
    engine:
      engine === undefined
        ? true
        : oneOf(engine.value, ["on", "off"] as const, engine.source, problems) === "on",
  };
  if (config.grpcPort !== 0 && config.grpcPort === config.httpPort) {
    problems.push(`the gRPC and HTTP ports must differ (both ${config.grpcPort})`);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze({ ...config, domains: Object.freeze(config.domains.map((d) => Object.freeze(d))) });
}
