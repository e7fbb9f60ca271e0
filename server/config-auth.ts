// The security settings of server/config.ts: listening address policy, API keys, OIDC, authorization rules, TLS.
// config.ts reads the raw values (flags win over environment variables); this file parses and checks them.
import fs from "node:fs";
import path from "node:path";
import { type ApiKey, parseApiKeys } from "./auth/api-keys.js";
import { type AuthzRule, parseAuthzRules } from "./auth/authz-rules.js";
import { oneOf } from "./config-values.js";

export interface AuthConfig {
  /** Listen on a non-loopback address without authentication (local use only; logged as a warning). */
  readonly insecureListenAny: boolean;
  /** Static API keys, stored as sha256 digests; the name is the principal. */
  readonly apiKeys: readonly ApiKey[];
  /** The OIDC issuer whose JWTs are accepted (keys from its discovery document's jwks_uri). */
  readonly oidcIssuer: string | undefined;
  /** The `aud` a JWT must carry (required with an issuer). */
  readonly oidcAudience: string | undefined;
  /** The public client id flytectl / flytekit use for PKCE and device flows (GetPublicClientConfig). */
  readonly oidcClientId: string;
  /** Scopes clients ask for. */
  readonly oidcScopes: readonly string[];
  /** Per-project rules; undefined: every authenticated principal may do everything. */
  readonly authzRules: readonly AuthzRule[] | undefined;
  /** PEM certificate chain and key for both ports (absolute paths); reloaded on SIGHUP. */
  readonly tlsCert: string | undefined;
  readonly tlsKey: string | undefined;
}

type Read = (key: keyof AuthConfig) => { value: string; source: string } | undefined;

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost)$/;

/** Whether the address only accepts connections from this machine. */
export const isLoopbackHost = (host: string): boolean => LOOPBACK.test(host);

/** Whether calls need a bearer token. */
export const authEnabled = (c: Pick<AuthConfig, "apiKeys" | "oidcIssuer">): boolean =>
  c.apiKeys.length > 0 || c.oidcIssuer !== undefined;

function readFileSetting(
  setting: { value: string; source: string } | undefined,
  cwd: string,
  problems: string[],
): string | undefined {
  if (setting === undefined) return undefined;
  const file = path.resolve(cwd, setting.value);
  try {
    fs.accessSync(file, fs.constants.R_OK);
  } catch {
    problems.push(`${setting.source}: cannot read "${file}"`);
  }
  return file;
}

/** `@FILE` reads the rules from a file; anything else is the rules themselves. */
function readRules(setting: { value: string; source: string } | undefined, cwd: string, problems: string[]) {
  if (setting === undefined) return undefined;
  if (!setting.value.startsWith("@")) return parseAuthzRules(setting.value, setting.source, problems);
  const file = path.resolve(cwd, setting.value.slice(1));
  try {
    return parseAuthzRules(fs.readFileSync(file, "utf8"), `${setting.source} (${file})`, problems);
  } catch {
    problems.push(`${setting.source}: cannot read "${file}"`);
    return [];
  }
}

function readOidc(read: Read, problems: string[]) {
  const issuer = read("oidcIssuer");
  const audience = read("oidcAudience");
  if (issuer !== undefined && !/^https?:\/\/[^/?#]+(\/[^?#]*)?$/.test(issuer.value)) {
    problems.push(`${issuer.source}: "${issuer.value}" must be an http:// or https:// URL`);
  }
  if (issuer !== undefined && audience === undefined) {
    problems.push(`${issuer.source}: an OIDC issuer needs an audience (--oidc-audience)`);
  }
  if (issuer === undefined && audience !== undefined) {
    problems.push(`${audience.source}: an audience needs an OIDC issuer (--oidc-issuer)`);
  }
  const scopes = read("oidcScopes");
  return {
    oidcIssuer: issuer?.value.replace(/\/+$/, ""),
    oidcAudience: audience?.value,
    oidcClientId: read("oidcClientId")?.value ?? "flytectl",
    oidcScopes: Object.freeze(
      scopes === undefined
        ? ["openid", "offline_access"]
        : scopes.value.split(/[ ,]+/).filter((s) => s !== ""),
    ),
  };
}

export function readAuthSettings(read: Read, host: string, cwd: string, problems: string[]): AuthConfig {
  const insecure = read("insecureListenAny");
  const keys = read("apiKeys");
  const cert = read("tlsCert");
  const key = read("tlsKey");
  if ((cert === undefined) !== (key === undefined)) {
    problems.push("TLS needs both a certificate (--tls-cert) and its key (--tls-key)");
  }
  const auth = {
    insecureListenAny:
      insecure !== undefined &&
      oneOf(insecure.value, ["true", "false"] as const, insecure.source, problems) === "true",
    apiKeys: Object.freeze(keys === undefined ? [] : parseApiKeys(keys.value, keys.source, problems)),
    ...readOidc(read, problems),
    authzRules: readRules(read("authzRules"), cwd, problems),
    tlsCert: readFileSetting(cert, cwd, problems),
    tlsKey: readFileSetting(key, cwd, problems),
  };
  if (auth.authzRules !== undefined && !authEnabled(auth)) {
    problems.push("authorization rules (--authz-rules) need authentication (--api-keys or --oidc-issuer)");
  }
  if (!isLoopbackHost(host) && !authEnabled(auth) && !auth.insecureListenAny) {
    problems.push(
      `listening on ${host} without authentication: configure --api-keys or --oidc-issuer, ` +
        "or pass --insecure-listen-any to accept unauthenticated calls from the network",
    );
  }
  return auth;
}
