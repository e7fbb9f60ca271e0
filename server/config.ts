// The only reader of process.env: flags and environment variables map to one frozen, validated config.
import path from "node:path";
import { type AuthConfig, readAuthSettings } from "./config-auth.js";
import { type LimitsConfig, readLimitSettings } from "./config-limits.js";
import { type NotificationsConfig, readNotificationSettings } from "./config-notifications.js";
import { type RetentionConfig, readRetentionSettings } from "./config-retention.js";
import { readSecretSettings, type SecretsConfig } from "./config-secrets.js";
import { readStorageSettings } from "./config-storage.js";
import {
  oneOf,
  parseDomains,
  parseDuration,
  parseEnvList,
  parsePort,
  parseSize,
  readDockerHost,
} from "./config-values.js";

export interface DomainConfig {
  readonly id: string;
  readonly name: string;
}

export type TaskRuntime = "process" | "docker";
export type LogLevel = "debug" | "info" | "warn" | "error" | "silent";

export interface PetrelConfig
  extends AuthConfig,
    LimitsConfig,
    SecretsConfig,
    NotificationsConfig,
    RetentionConfig {
  readonly host: string;
  readonly grpcPort: number;
  readonly httpPort: number;
  readonly databaseUrl: string | undefined;
  readonly home: string;
  readonly domains: readonly DomainConfig[];
  readonly logLevel: LogLevel;
  readonly taskRuntime: TaskRuntime;
  /** The Docker daemon of the docker runtime: `unix:///path` or `tcp://host:port`. */
  readonly dockerHost: string;
  readonly dbPoolMax: number;
  /** Run the engine in this process (off: an external engine drives executions through the event rpcs). */
  readonly engine: boolean;
  /** How long a claimed work item stays leased without a heartbeat (a crashed replica's work is retaken after). */
  readonly engineLeaseMs: number;
  /** Launch scheduled launch plans from this process (replicas share the work). */
  readonly scheduler: boolean;
  // DataProxy: signed blob URLs served by the HTTP port.
  /** The HTTP port's address as clients reach it (behind a proxy); unset → the server's own http address. */
  readonly publicUrl: string | undefined;
  /** The key that signs blob URLs; unset → generated once and kept in `<home>/signing-key`. */
  readonly signingKey: string | undefined;
  /** The largest body a signed PUT may carry. */
  readonly maxUploadBytes: number;
  /** The longest expires_in of CreateUploadLocation (FlyteAdmin's dataProxy.upload.maxExpiresIn). */
  readonly uploadMaxExpiresMs: number;
  /** The longest expires_in of CreateDownloadLocation / CreateDownloadLink (dataProxy.download.maxExpiresIn). */
  readonly downloadMaxExpiresMs: number;
  /** Literal maps up to this size are answered inline by the *GetData rpcs; bigger ones as a signed URL. */
  readonly maxInlineDataBytes: number;
  // Blob store (server/storage): where inputs, outputs, decks and uploaded files live.
  /** `file:///<dir>` (default `<home>/blobs`) or `s3://<bucket>[/<prefix>]`, normalized (no trailing `/`). */
  readonly storageUrl: string;
  /** The S3 service's URL (MinIO, Ceph, R2, GCS…); unset → AWS S3. Credentials: the AWS SDK's own chain. */
  readonly storageEndpoint: string | undefined;
  readonly storageRegion: string;
  /** Path-style S3 URLs (`host/bucket/key`); default on with an endpoint, off for AWS. */
  readonly storagePathStyle: boolean;
  /**
   * Variables every task process gets (`NAME=value,…`): task processes never inherit the server's environment,
   * so this is how an operator hands them, say, AWS credentials for an s3:// store.
   */
  readonly taskEnv: Readonly<Record<string, string>>;
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
  dockerHost: { flag: "--docker-host", env: "PETREL_DOCKER_HOST" },
  dbPoolMax: { flag: "--db-pool-max", env: "PETREL_DB_POOL_MAX" },
  engine: { flag: "--engine", env: "PETREL_ENGINE" },
  engineLeaseMs: { flag: "--engine-lease-ms", env: "PETREL_ENGINE_LEASE_MS" },
  scheduler: { flag: "--scheduler", env: "PETREL_SCHEDULER" },
  publicUrl: { flag: "--public-url", env: "PETREL_PUBLIC_URL" },
  signingKey: { flag: "--signing-key", env: "PETREL_SIGNING_KEY" },
  maxUploadBytes: { flag: "--max-upload-size", env: "PETREL_MAX_UPLOAD_SIZE" },
  uploadMaxExpiresMs: { flag: "--upload-max-expires-in", env: "PETREL_UPLOAD_MAX_EXPIRES_IN" },
  downloadMaxExpiresMs: { flag: "--download-max-expires-in", env: "PETREL_DOWNLOAD_MAX_EXPIRES_IN" },
  maxInlineDataBytes: { flag: "--max-inline-data-size", env: "PETREL_MAX_INLINE_DATA_SIZE" },
  storageUrl: { flag: "--storage-url", env: "PETREL_STORAGE_URL" },
  storageEndpoint: { flag: "--storage-endpoint", env: "PETREL_STORAGE_ENDPOINT" },
  storageRegion: { flag: "--storage-region", env: "PETREL_STORAGE_REGION" },
  storagePathStyle: { flag: "--storage-path-style", env: "PETREL_STORAGE_PATH_STYLE" },
  taskEnv: { flag: "--task-env", env: "PETREL_TASK_ENV" },
  insecureListenAny: { flag: "--insecure-listen-any", env: "PETREL_INSECURE_LISTEN_ANY" },
  apiKeys: { flag: "--api-keys", env: "PETREL_API_KEYS" },
  oidcIssuer: { flag: "--oidc-issuer", env: "PETREL_OIDC_ISSUER" },
  oidcAudience: { flag: "--oidc-audience", env: "PETREL_OIDC_AUDIENCE" },
  oidcClientId: { flag: "--oidc-client-id", env: "PETREL_OIDC_CLIENT_ID" },
  oidcScopes: { flag: "--oidc-scopes", env: "PETREL_OIDC_SCOPES" },
  authzRules: { flag: "--authz-rules", env: "PETREL_AUTHZ_RULES" },
  tlsCert: { flag: "--tls-cert", env: "PETREL_TLS_CERT" },
  tlsKey: { flag: "--tls-key", env: "PETREL_TLS_KEY" },
  maxRequestBytes: { flag: "--max-request-size", env: "PETREL_MAX_REQUEST_SIZE" },
  maxListLimit: { flag: "--max-list-limit", env: "PETREL_MAX_LIST_LIMIT" },
  maxFilterLength: { flag: "--max-filter-length", env: "PETREL_MAX_FILTER_LENGTH" },
  maxLiteralDepth: { flag: "--max-literal-depth", env: "PETREL_MAX_LITERAL_DEPTH" },
  maxConcurrentStreams: { flag: "--max-concurrent-streams", env: "PETREL_MAX_CONCURRENT_STREAMS" },
  rateLimit: { flag: "--rate-limit", env: "PETREL_RATE_LIMIT" },
  rateLimitBurst: { flag: "--rate-limit-burst", env: "PETREL_RATE_LIMIT_BURST" },
  requestReadTimeoutMs: { flag: "--request-read-timeout", env: "PETREL_REQUEST_READ_TIMEOUT" },
  connectionIdleMs: { flag: "--connection-idle-timeout", env: "PETREL_CONNECTION_IDLE_TIMEOUT" },
  secretsDir: { flag: "--secrets-dir", env: "PETREL_SECRETS_DIR" },
  secretsEnv: { flag: "--secrets-env-prefix", env: "PETREL_SECRETS_ENV_PREFIX" },
  smtpUrl: { flag: "--smtp-url", env: "PETREL_SMTP_URL" },
  notificationsFrom: { flag: "--notifications-from", env: "PETREL_NOTIFICATIONS_FROM" },
  notificationsTemplate: { flag: "--notifications-template", env: "PETREL_NOTIFICATIONS_TEMPLATE" },
  webhookSecret: { flag: "--webhook-secret", env: "PETREL_WEBHOOK_SECRET" },
  eventSinkUrls: { flag: "--event-sink-url", env: "PETREL_EVENT_SINK_URLS" },
  retainExecutionsDays: { flag: "--retain-executions-days", env: "PETREL_RETAIN_EXECUTIONS_DAYS" },
} as const satisfies Record<keyof PetrelConfig, Setting>;

export const CONFIG_SETTINGS: Readonly<Record<string, Setting>> = SETTINGS;

/** Flags that may stand alone (meaning "true"). */
const BARE_FLAGS: ReadonlySet<string> = new Set([SETTINGS.insecureListenAny.flag]);
/** Flags that may be given more than once (their values are joined with commas). */
const REPEATABLE_FLAGS: ReadonlySet<string> = new Set([SETTINGS.eventSinkUrls.flag]);
const DEFAULT_DOMAINS = ["development", "staging", "production"];
const LOG_LEVELS: readonly LogLevel[] = ["debug", "info", "warn", "error", "silent"];
const TASK_RUNTIMES: readonly TaskRuntime[] = ["process", "docker"];

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
    const bare =
      eq < 0 && BARE_FLAGS.has(name) && (argv[i + 1] === undefined || argv[i + 1]?.startsWith("--"));
    let value: string | undefined = eq >= 0 ? arg.slice(eq + 1) : bare ? "true" : argv[i + 1];
    if (eq < 0 && !bare) i++;
    if (value === undefined) {
      problems.push(`flag ${name} needs a value`);
      value = "";
    }
    const before = REPEATABLE_FLAGS.has(name) ? flags.get(name) : undefined;
    flags.set(name, before === undefined ? value : `${before},${value}`);
  }
  return flags;
}

type Read = (key: keyof typeof SETTINGS) => { value: string; source: string } | undefined;

/** The DataProxy settings: the public URL of the HTTP port, the signing key, the upload size and URL lifetimes. */
function readDataProxySettings(read: Read, problems: string[]) {
  const publicUrl = read("publicUrl");
  if (publicUrl !== undefined && !/^https?:\/\/[^/?#]+(\/[^?#]*)?$/.test(publicUrl.value)) {
    problems.push(`${publicUrl.source}: "${publicUrl.value}" must be an http:// or https:// URL (no query)`);
  }
  const key = read("signingKey");
  if (key !== undefined && Buffer.byteLength(key.value) < 16) {
    problems.push(`${key.source}: the signing key must be at least 16 bytes`);
  }
  const size = read("maxUploadBytes");
  const upload = read("uploadMaxExpiresMs");
  const download = read("downloadMaxExpiresMs");
  const inline = read("maxInlineDataBytes");
  return {
    // FlyteAdmin's remoteData.maxSizeInBytes.
    maxInlineDataBytes: inline === undefined ? 2 * 2 ** 20 : parseSize(inline.value, inline.source, problems),
    publicUrl: publicUrl?.value.replace(/\/+$/, ""),
    signingKey: key?.value,
    maxUploadBytes: size === undefined ? 5 * 2 ** 30 : parseSize(size.value, size.source, problems),
    uploadMaxExpiresMs:
      upload === undefined ? 3_600_000 : parseDuration(upload.value, upload.source, problems),
    downloadMaxExpiresMs:
      download === undefined ? 3_600_000 : parseDuration(download.value, download.source, problems),
  };
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
  const read: Read = (key) => {
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
  const taskEnv = read("taskEnv");
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
  // Loopback unless configured otherwise: other addresses need authentication or --insecure-listen-any.
  const host = read("host")?.value ?? "127.0.0.1";
  const config: PetrelConfig = {
    host,
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
    dockerHost: readDockerHost(read("dockerHost"), problems),
    dbPoolMax,
    engineLeaseMs,
    taskEnv:
      taskEnv === undefined ? {} : Object.freeze(parseEnvList(taskEnv.value, taskEnv.source, problems)),
    scheduler:
      scheduler === undefined ||
      oneOf(scheduler.value, ["on", "off"] as const, scheduler.source, problems) === "on",
    engine:
      engine === undefined
        ? true
        : oneOf(engine.value, ["on", "off"] as const, engine.source, problems) === "on",
    ...readDataProxySettings(read, problems),
    ...readStorageSettings(read, env.AWS_REGION, path.resolve(cwd, home), problems),
    ...readAuthSettings(read, host, cwd, problems),
    ...readLimitSettings(read, problems),
    ...readSecretSettings(read, env, cwd, problems),
    ...readNotificationSettings(read, cwd, problems),
    ...readRetentionSettings(read, problems),
  };
  if (config.grpcPort !== 0 && config.grpcPort === config.httpPort) {
    problems.push(`the gRPC and HTTP ports must differ (both ${config.grpcPort})`);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze({ ...config, domains: Object.freeze(config.domains.map((d) => Object.freeze(d))) });
}
