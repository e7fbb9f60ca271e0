// `petrel serve --help`: every server flag with its environment variable, its default and what it does. The
// table is keyed like the config, so a setting added to server/config.ts without help here fails to compile.
import { CONFIG_SETTINGS, type PetrelConfig } from "./config.js";

interface SettingHelp {
  readonly value: string;
  readonly help: string;
  readonly default: string;
}

export const SETTING_HELP = {
  host: {
    value: "ADDR",
    help: "address to listen on (other than loopback: needs authentication or --insecure-listen-any)",
    default: "127.0.0.1",
  },
  grpcPort: { value: "N", help: "gRPC port (0 picks a free one)", default: "8089" },
  httpPort: { value: "N", help: "HTTP port: signed blob URLs, health (0 picks a free one)", default: "8088" },
  databaseUrl: {
    value: "URL",
    help: "external Postgres (postgres://…)",
    default: "embedded Postgres under the home directory",
  },
  home: { value: "DIR", help: "where the server keeps its state", default: ".petrel" },
  domains: { value: "LIST", help: "comma-separated domains", default: "development,staging,production" },
  logLevel: { value: "LEVEL", help: "debug, info, warn, error or silent", default: "info" },
  taskRuntime: { value: "RUNTIME", help: "how container tasks run: process or docker", default: "process" },
  dockerHost: {
    value: "URL",
    help: "the Docker daemon of --task-runtime docker (unix:///path or tcp://host:port)",
    default: "unix:///var/run/docker.sock",
  },
  dbPoolMax: { value: "N", help: "database connections at most (1-1000)", default: "10" },
  engine: { value: "on|off", help: "run the engine in this process", default: "on" },
  engineLeaseMs: {
    value: "MS",
    help: "how long claimed work stays leased without a heartbeat (≥ 500)",
    default: "30000",
  },
  scheduler: { value: "on|off", help: "launch scheduled launch plans from this process", default: "on" },
  publicUrl: {
    value: "URL",
    help: "the HTTP port's address as clients reach it (behind a proxy)",
    default: "the server's own HTTP address",
  },
  signingKey: {
    value: "KEY",
    help: "key that signs blob URLs (≥ 16 bytes)",
    default: "generated once into <home>/signing-key",
  },
  maxUploadBytes: { value: "SIZE", help: "largest signed upload (bytes, or Ki/Mi/Gi/Ti)", default: "5Gi" },
  uploadMaxExpiresMs: { value: "DURATION", help: "longest lifetime of an upload URL", default: "1h" },
  downloadMaxExpiresMs: { value: "DURATION", help: "longest lifetime of a download URL", default: "1h" },
  maxInlineDataBytes: {
    value: "SIZE",
    help: "inputs/outputs up to this size are returned inline by the *GetData rpcs",
    default: "2Mi",
  },
  storageUrl: {
    value: "URL",
    help: "blob store: file:///<dir> or s3://<bucket>[/<prefix>]",
    default: "file://<home>/blobs",
  },
  storageEndpoint: {
    value: "URL",
    help: "S3-compatible service URL (MinIO, R2…)",
    default: "AWS S3",
  },
  storageRegion: { value: "REGION", help: "S3 region", default: "$AWS_REGION, else us-east-1" },
  storagePathStyle: {
    value: "on|off",
    help: "path-style S3 URLs",
    default: "on with --storage-endpoint, else off",
  },
  taskEnv: { value: "NAME=value,…", help: "variables every task process gets", default: "none" },
  insecureListenAny: {
    value: "[true|false]",
    help: "accept unauthenticated calls on a non-loopback address (local use only)",
    default: "false",
  },
  apiKeys: {
    value: "NAME:SHA256,…",
    help: "static API keys: name:hex sha256 of the key (printf %s KEY | sha256sum)",
    default: "none",
  },
  oidcIssuer: {
    value: "URL",
    help: "accept JWTs from this OIDC issuer (keys from its JWKS)",
    default: "none",
  },
  oidcAudience: {
    value: "AUD",
    help: "the audience a JWT must carry (needed with an issuer)",
    default: "none",
  },
  oidcClientId: { value: "ID", help: "public client id for flytectl/flytekit logins", default: "flytectl" },
  oidcScopes: { value: "LIST", help: "scopes clients ask for", default: "openid,offline_access" },
  authzRules: {
    value: "RULES|@FILE",
    help: "per-project rules PRINCIPAL:read|write|admin:PROJECT-GLOB,…",
    default: "any authenticated principal may do anything",
  },
  tlsCert: {
    value: "FILE",
    help: "PEM certificate chain for both ports (reloaded on SIGHUP)",
    default: "plaintext",
  },
  tlsKey: { value: "FILE", help: "PEM private key for --tls-cert", default: "none" },
  maxRequestBytes: {
    value: "SIZE",
    help: "largest request message, on every port (RESOURCE_EXHAUSTED beyond)",
    default: "64Mi",
  },
  maxListLimit: {
    value: "N",
    help: "a list's limit above N is lowered to N (the page has a token)",
    default: "1000",
  },
  maxFilterLength: { value: "N", help: "longest filters string of a list (at most 32768)", default: "32768" },
  maxLiteralDepth: { value: "N", help: "how deeply literals may nest in a request", default: "32" },
  maxConcurrentStreams: { value: "N", help: "concurrent HTTP/2 streams per connection", default: "1000" },
  rateLimit: {
    value: "N",
    help: "calls per second per principal (peer address without auth; RESOURCE_EXHAUSTED beyond); 0: off",
    default: "0",
  },
  rateLimitBurst: { value: "N", help: "calls a principal may make at once", default: "2 × --rate-limit" },
  requestReadTimeoutMs: {
    value: "DURATION",
    help: "how long a request may take to arrive after its headers",
    default: "30s",
  },
  connectionIdleMs: {
    value: "DURATION",
    help: "close connections idle this long (with calls open: unless they answer a ping)",
    default: "5m",
  },
  secretsDir: {
    value: "DIR",
    help: "secrets tasks ask for, as files DIR/<group>/<key>",
    default: "none",
  },
  secretsEnv: {
    value: "PREFIX",
    help: "secrets tasks ask for, as the server's variables PREFIX<GROUP>_<KEY>",
    default: "none",
  },
  smtpUrl: {
    value: "URL",
    help: "send notification emails (email, Slack and PagerDuty addresses) through smtp://user:pass@host:587 or smtps://…",
    default: "none: emails are recorded as undeliverable",
  },
  notificationsFrom: {
    value: "ADDR",
    help: "the From of notification emails",
    default: "Petrel <petrel@localhost>",
  },
  notificationsTemplate: {
    value: "FILE",
    help: "notification text: a `Subject: …` line, a blank line, the body; {{ project }}, {{ domain }}, {{ name }}, {{ phase }}, {{ duration }}, {{ error }}, {{ url }}, {{ workflow }}",
    default: "built in",
  },
  webhookSecret: {
    value: "KEY",
    help: "signs generic webhook posts: X-Petrel-Signature: sha256=<hex HMAC-SHA256 of the body>",
    default: "unsigned",
  },
  eventSinkUrls: {
    value: "URL",
    help: "post every execution, node and task event as a CloudEvent (JSON) to URL (repeatable, or a comma list)",
    default: "none",
  },
  retainExecutionsDays: {
    value: "DAYS",
    help: "delete finished executions last updated more than DAYS ago, with their rows and blobs; 0: keep them",
    default: "0 (forever)",
  },
} as const satisfies Record<keyof PetrelConfig, SettingHelp>;

/** The text of `petrel serve --help`. */
export function serveHelp(): string {
  const rows = Object.entries(SETTING_HELP).map(([key, h]) => {
    const s = CONFIG_SETTINGS[key];
    return { left: `${s?.flag ?? key} ${h.value}`, env: s?.env ?? "", h };
  });
  const wLeft = Math.max(...rows.map((r) => r.left.length));
  const wEnv = Math.max(...rows.map((r) => r.env.length));
  return [
    "usage: petrel serve [flags]",
    "",
    "Starts the server. Each flag can also be set by its environment variable; a flag wins over the variable.",
    "",
    `  ${"flag".padEnd(wLeft)}  ${"environment".padEnd(wEnv)}  meaning (default)`,
    ...rows.map(
      (r) => `  ${r.left.padEnd(wLeft)}  ${r.env.padEnd(wEnv)}  ${r.h.help} (default: ${r.h.default})`,
    ),
    `  ${"--help".padEnd(wLeft)}  ${"".padEnd(wEnv)}  show this help`,
  ].join("\n");
}
