import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../server/config.js";

function problemsOf(argv: string[], env: Record<string, string> = {}): readonly string[] {
  try {
    loadConfig(argv, env, "/srv");
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

describe("loadConfig", () => {
  it("uses the documented defaults with no flags and no environment", () => {
    const c = loadConfig([], {}, "/srv");
    expect(c).toMatchObject({ host: "127.0.0.1", grpcPort: 8089, httpPort: 8088, home: "/srv/.petrel" });
    expect(c.databaseUrl).toBeUndefined();
    expect(c.domains.map((d) => d.id)).toEqual(["development", "staging", "production"]);
    expect(Object.isFrozen(c)).toBe(true);
  });

  it("reads environment variables and lets flags win over them", () => {
    const env = { PETREL_GRPC_PORT: "9000", PETREL_HTTP_PORT: "9001", DATABASE_URL: "postgres://u@h/db" };
    const c = loadConfig(["--grpc-port", "0", "--http-port=0", "--domains", "dev,prod"], env, "/srv");
    expect(c.grpcPort).toBe(0);
    expect(c.httpPort).toBe(0);
    expect(c.databaseUrl).toBe("postgres://u@h/db");
    expect(c.domains).toEqual([
      { id: "dev", name: "dev" },
      { id: "prod", name: "prod" },
    ]);
  });

  it("reads the task environment as NAME=value pairs, values keeping their commas", () => {
    expect(loadConfig([], {}, "/srv").taskEnv).toEqual({});
    const c = loadConfig(["--task-env", "AWS_ACCESS_KEY_ID=k,PATHS=a,b,EMPTY=,X_1=y=z"], {}, "/srv");
    expect(c.taskEnv).toEqual({ AWS_ACCESS_KEY_ID: "k", PATHS: "a,b", EMPTY: "", X_1: "y=z" });
    expect(loadConfig([], { PETREL_TASK_ENV: "A=1" }, "/srv").taskEnv).toEqual({ A: "1" });
    expect(problemsOf(["--task-env", "=x"])).toEqual(['--task-env: "=x" is not NAME=value']);
    expect(problemsOf(["--task-env", "1A=x"])).toEqual(['--task-env: "1A=x" is not NAME=value']);
  });

  it("reports every problem at once", () => {
    const problems = problemsOf(["--grpc-port", "70000", "--bogus", "1", "--log-level", "loud"], {
      PETREL_HTTP_PORT: "abc",
      DATABASE_URL: "mysql://x",
      PETREL_DOMAINS: "Dev,ok",
    });
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringContaining('--grpc-port: "70000" is not a port'),
        "unknown flag --bogus",
        expect.stringContaining('--log-level: "loud" must be one of'),
        expect.stringContaining('PETREL_HTTP_PORT: "abc" is not a port'),
        "DATABASE_URL: must be a postgres:// or postgresql:// URL",
        'PETREL_DOMAINS: "Dev" is not a valid domain id',
      ]),
    );
    expect(problems.length).toBeGreaterThanOrEqual(6);
  });

  it("rejects equal non-zero ports and a flag without value", () => {
    expect(problemsOf(["--grpc-port", "9000", "--http-port", "9000"])).toContain(
      "the gRPC and HTTP ports must differ (both 9000)",
    );
    expect(problemsOf(["--home"])).toContain("flag --home needs a value");
  });
});
