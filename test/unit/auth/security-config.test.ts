// The security settings: safe-by-default listening, API keys, OIDC and authorization rules, parsed and checked.
import { describe, expect, it } from "vitest";
import { hashApiKey, matchApiKey } from "../../../server/auth/api-keys.js";
import { isAllowed, parseAuthzRules } from "../../../server/auth/authz-rules.js";
import { ConfigError, loadConfig } from "../../../server/config.js";

function problemsOf(argv: string[], env: Record<string, string> = {}): readonly string[] {
  try {
    loadConfig(argv, env, "/srv");
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

const KEY = `ci:${hashApiKey("k")}`;

describe("listening address", () => {
  it("binds loopback by default and refuses other addresses without auth or the explicit flag", () => {
    expect(loadConfig([], {}, "/srv").host).toBe("127.0.0.1");
    expect(problemsOf(["--host", "0.0.0.0"])).toEqual([
      "listening on 0.0.0.0 without authentication: configure --api-keys or --oidc-issuer, or pass --insecure-listen-any to accept unauthenticated calls from the network",
    ]);
    expect(loadConfig(["--host", "0.0.0.0", "--insecure-listen-any"], {}, "/srv").insecureListenAny).toBe(
      true,
    );
    expect(loadConfig(["--insecure-listen-any", "--host", "::"], {}, "/srv").host).toBe("::");
    expect(problemsOf([], { PETREL_HOST: "0.0.0.0", PETREL_INSECURE_LISTEN_ANY: "true" })).toEqual([]);
    expect(problemsOf(["--host", "0.0.0.0", "--api-keys", KEY])).toEqual([]);
    expect(problemsOf(["--host", "localhost"])).toEqual([]);
  });
});

describe("authentication settings", () => {
  it("parses hashed API keys and matches keys by their digest", () => {
    const c = loadConfig(["--api-keys", `${KEY},ops:${hashApiKey("other")}`], {}, "/srv");
    expect(c.apiKeys.map((k) => k.name)).toEqual(["ci", "ops"]);
    expect(matchApiKey(c.apiKeys, "other")).toBe("ops");
    expect(matchApiKey(c.apiKeys, "wrong")).toBeUndefined();
    expect(problemsOf(["--api-keys", "ci:abc"])).toEqual([
      '--api-keys: "ci:abc" is not NAME:SHA256HEX (64 hex digits)',
    ]);
  });

  it("needs an audience with an issuer, and both TLS files", () => {
    expect(problemsOf(["--oidc-issuer", "https://id.example.com"])).toEqual([
      "--oidc-issuer: an OIDC issuer needs an audience (--oidc-audience)",
    ]);
    expect(problemsOf(["--tls-cert", "/nonexistent.pem"])).toEqual([
      "TLS needs both a certificate (--tls-cert) and its key (--tls-key)",
      '--tls-cert: cannot read "/nonexistent.pem"',
    ]);
    expect(problemsOf(["--authz-rules", "a:read:*"])).toEqual([
      "authorization rules (--authz-rules) need authentication (--api-keys or --oidc-issuer)",
    ]);
  });
});

describe("authorization rules", () => {
  const problems: string[] = [];
  const rules = parseAuthzRules(
    "alice:write:flytesnacks, ci-*:read:*\nhttps://id.example.com/u/7:admin:ml-*, ops:admin:*",
    "rules",
    problems,
  );

  it("parses principals (even with colons), permissions and project globs", () => {
    expect(problems).toEqual([]);
    expect(rules[2]).toEqual({
      principal: "https://id.example.com/u/7",
      permission: "admin",
      projects: "ml-*",
    });
    const bad: string[] = [];
    parseAuthzRules("alice:owner:x", "rules", bad);
    expect(bad).toEqual([
      'rules: "alice:owner:x" is not PRINCIPAL:PERMISSION:PROJECTS (permission one of read, write, admin)',
    ]);
  });

  it("grants a permission and the ones below it, on matching projects only", () => {
    expect(isAllowed(rules, "alice", "read", "flytesnacks")).toBe(true);
    expect(isAllowed(rules, "alice", "write", "flytesnacks")).toBe(true);
    expect(isAllowed(rules, "alice", "admin", "flytesnacks")).toBe(false);
    expect(isAllowed(rules, "alice", "read", "other")).toBe(false);
    expect(isAllowed(rules, "ci-bot", "read", "anything")).toBe(true);
    expect(isAllowed(rules, "ci-bot", "write", "anything")).toBe(false);
    expect(isAllowed(rules, "https://id.example.com/u/7", "admin", "ml-train")).toBe(true);
    // No project named: only a rule on every project counts.
    expect(isAllowed(rules, "alice", "write", undefined)).toBe(false);
    expect(isAllowed(rules, "ops", "write", undefined)).toBe(true);
  });
});
