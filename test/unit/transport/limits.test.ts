// The pure parts of the limits: the token buckets, the literal depth check and the limit settings.
import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import {
  type ExecutionCreateRequest,
  ExecutionCreateRequestSchema,
} from "../../../gen/flyteidl/admin/execution_pb.js";
import { ProjectRegisterRequestSchema } from "../../../gen/flyteidl/admin/project_pb.js";
import { TaskCreateRequestSchema } from "../../../gen/flyteidl/admin/task_pb.js";
import { type Literal, LiteralSchema } from "../../../gen/flyteidl/core/literals_pb.js";
import { type ConfigError, loadConfig } from "../../../server/config.js";
import { RateLimiter } from "../../../server/transport/rate-limit.js";
import { checkLiteralDepth } from "../../../server/validation/literal-depth.js";
import { collectionOf, intType, literalInt, mapOf } from "../../fixtures/flyte-builders.js";

describe("RateLimiter", () => {
  it("allows the burst, then one call per 1/rate seconds, per key, with the wait until the next", () => {
    let now = 0;
    const limiter = new RateLimiter({ perSecond: 2, burst: 3 }, () => now);
    expect([limiter.take("a"), limiter.take("a"), limiter.take("a")]).toEqual([0, 0, 0]);
    expect(limiter.take("a")).toBe(500);
    expect(limiter.take("b")).toBe(0);
    now = 400;
    expect(limiter.take("a")).toBe(100);
    now = 500;
    expect(limiter.take("a")).toBe(0);
    now = 10_000;
    expect([0, 1, 2, 3].map(() => limiter.take("a"))).toEqual([0, 0, 0, 500]);
  });
});

const wrap = (lit: Literal, n: number): Literal => {
  let out = lit;
  for (let i = 0; i < n; i++)
    out = create(LiteralSchema, { value: { case: "map", value: { literals: { k: out } } } });
  return out;
};

describe("checkLiteralDepth", () => {
  const request = (lit: Literal): ExecutionCreateRequest =>
    create(ExecutionCreateRequestSchema, { inputs: { literals: { x: lit } } });

  it("counts literals inside literals, and passes up to the limit", () => {
    expect(() =>
      checkLiteralDepth(ExecutionCreateRequestSchema, request(wrap(literalInt(1), 2)), 3),
    ).not.toThrow();
    expect(() => checkLiteralDepth(ExecutionCreateRequestSchema, request(wrap(literalInt(1), 3)), 3)).toThrow(
      'literals nest more than 3 levels deep (at inputs.literals["x"].map.literals["k"].map.literals["k"].map.literals["k"])',
    );
  });

  it("counts literal types too, and skips messages that cannot hold any", () => {
    const deepType = collectionOf(collectionOf(mapOf(intType())));
    const task = create(TaskCreateRequestSchema, {
      spec: { template: { interface: { inputs: { variables: { x: { type: deepType } } } } } },
    });
    expect(() => checkLiteralDepth(TaskCreateRequestSchema, task, 4)).not.toThrow();
    expect(() => checkLiteralDepth(TaskCreateRequestSchema, task, 3)).toThrow(
      'literals nest more than 3 levels deep (at spec.template.interface.inputs.variables["x"].type' +
        ".collection_type.collection_type.map_value_type)",
    );
    expect(() =>
      checkLiteralDepth(ProjectRegisterRequestSchema, create(ProjectRegisterRequestSchema, {}), 1),
    ).not.toThrow();
  });
});

describe("limit and secret settings", () => {
  const load = (env: Record<string, string>) => loadConfig([], { PETREL_HOME: "/tmp/x", ...env }, "/tmp");

  it("have defaults", () => {
    const c = load({});
    expect({
      maxRequestBytes: c.maxRequestBytes,
      maxListLimit: c.maxListLimit,
      maxFilterLength: c.maxFilterLength,
      maxLiteralDepth: c.maxLiteralDepth,
      maxConcurrentStreams: c.maxConcurrentStreams,
      rateLimit: c.rateLimit,
      requestReadTimeoutMs: c.requestReadTimeoutMs,
      connectionIdleMs: c.connectionIdleMs,
      secretsDir: c.secretsDir,
      secretsEnv: c.secretsEnv,
    }).toEqual({
      maxRequestBytes: 64 * 2 ** 20,
      maxListLimit: 1000,
      maxFilterLength: 32_768,
      maxLiteralDepth: 32,
      maxConcurrentStreams: 1000,
      rateLimit: 0,
      requestReadTimeoutMs: 30_000,
      connectionIdleMs: 300_000,
      secretsDir: undefined,
      secretsEnv: undefined,
    });
  });

  it("are read from flags and variables, secrets by prefix, and every problem is reported", () => {
    const c = loadConfig(
      ["--rate-limit", "10", "--max-request-size=1Mi", "--secrets-env-prefix", "S_"],
      { PETREL_HOME: "/tmp/x", PETREL_REQUEST_READ_TIMEOUT: "5s", S_DB_PASS: "v", OTHER: "w" },
      "/tmp",
    );
    expect([c.rateLimit, c.rateLimitBurst, c.maxRequestBytes, c.requestReadTimeoutMs]).toEqual([
      10,
      20,
      2 ** 20,
      5000,
    ]);
    expect(c.secretsEnv).toEqual({ prefix: "S_", values: { DB_PASS: "v" } });
    let problems: readonly string[] = [];
    try {
      load({
        PETREL_MAX_LIST_LIMIT: "0",
        PETREL_MAX_FILTER_LENGTH: "40000",
        PETREL_RATE_LIMIT: "-1",
        PETREL_SECRETS_DIR: "/nonexistent/secrets",
        PETREL_SECRETS_ENV_PREFIX: "A-B",
      });
    } catch (err) {
      problems = (err as ConfigError).problems;
    }
    expect([...problems].sort()).toEqual([
      'PETREL_MAX_FILTER_LENGTH: "40000" must be an integer from 1 to 32768',
      'PETREL_MAX_LIST_LIMIT: "0" must be an integer from 1 to 2147483647',
      'PETREL_RATE_LIMIT: "-1" must be an integer from 0 to 1000000',
      'PETREL_SECRETS_DIR: "/nonexistent/secrets" is not a directory',
      'PETREL_SECRETS_ENV_PREFIX: "A-B" must be the start of a variable name ([A-Za-z_][A-Za-z0-9_]*)',
    ]);
  });
});
