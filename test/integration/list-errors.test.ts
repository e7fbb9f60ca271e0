// Bad input to the list rpcs and to Relaunch/Recover: always a clear error with the right code, never a database's
// own text, and no filter can keep the server busy.
import { Code } from "@connectrpc/connect";
import type * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Sort_Direction } from "../../gen/flyteidl/admin/common_pb.js";
import { WorkflowExecution_Phase } from "../../gen/flyteidl/core/execution_pb.js";
import { ResourceType } from "../../gen/flyteidl/core/identifier_pb.js";
import {
  bind,
  intType,
  launchPlanId,
  literalInt,
  taskId,
  taskNode,
  taskTemplate,
  workflowId,
  workflowTemplate,
} from "../fixtures/flyte-builders.js";
import { eventually } from "../support/eventually.js";
import { expectCode } from "../support/expect-error.js";
import { startTestServer, type TestServer } from "../support/test-server.js";

let t: TestServer;
const P = { project: "flytesnacks", domain: "development" };
const RUNS = ["run-a", "run-b", "run-c"];

beforeAll(async () => {
  t = await startTestServer();
  await t.admin.registerProject({ project: { id: P.project, name: P.project } });
  for (const name of ["echo", "echo2"]) {
    await t.admin.createTask({
      id: taskId(name),
      spec: { template: taskTemplate({ type: "echo", inputs: { a: intType() }, outputs: { a: intType() } }) },
    });
  }
  const wf = workflowTemplate({
    inputs: { x: intType() },
    outputs: { y: intType() },
    nodes: [
      taskNode("n0", taskId("echo"), [bind("a", "", "x")]),
      taskNode("n1", taskId("echo2"), [bind("a", "n0", "a")]),
    ],
    outputBindings: [bind("y", "n1", "a")],
  });
  await t.admin.createWorkflow({ id: workflowId("chain"), spec: { template: wf } });
  await t.admin.createLaunchPlan({ id: launchPlanId("chain"), spec: { workflowId: workflowId("chain") } });
  for (const name of RUNS) {
    await t.admin.createExecution({
      ...P,
      name,
      spec: { launchPlan: launchPlanId("chain") },
      inputs: { literals: { x: literalInt(1) } },
    });
  }
  for (const name of RUNS) {
    await eventually(
      () => t.admin.getExecution({ id: { ...P, name } }),
      (e) => e.closure?.phase === WorkflowExecution_Phase.SUCCEEDED,
    );
  }
}, 120_000);

afterAll(async () => {
  await t?.stop();
});

/** Each list rpc, called with a filter and a token (limit 1). */
const LISTS: Record<string, (filters: string, token?: string) => Promise<{ token: string }>> = {
  ListTasks: (filters, token = "") => t.admin.listTasks({ id: P, limit: 1, filters, token }),
  ListExecutions: (filters, token = "") => t.admin.listExecutions({ id: P, limit: 1, filters, token }),
  ListNodeExecutions: (filters, token = "") =>
    t.admin.listNodeExecutions({ workflowExecutionId: { ...P, name: "run-a" }, limit: 1, filters, token }),
  ListNamedEntities: (filters, token = "") =>
    t.admin.listNamedEntities({ resourceType: ResourceType.TASK, ...P, limit: 1, filters, token }),
};

const NUMBER = /^invalid value for filters: '.*' is (out of range|not an integer)$/;
const TIMESTAMP = /^invalid value for filters: '.*' is not a timestamp \(RFC 3339/;
// The request guard may refuse a NUL in any string field before the filter parser sees it; both name the field.
const NUL = /^(invalid value for filters: contains a NUL character|filters must not contain a NUL character)/;

/** Filters each list must refuse, with the error text, beyond the ones every list refuses. */
const BAD_FILTERS: Record<string, [string, string | RegExp][]> = {
  ListTasks: [
    ["eq(id,99999999999999999999)", NUMBER],
    ["gte(created_at,2020)", TIMESTAMP],
    ["gte(created_at,0000-01-01)", TIMESTAMP],
    ["gte(created_at,0000-01-01T00:00:00Z)", TIMESTAMP],
    ["lt(updated_at,2024-02-30T00:00:00Z)", TIMESTAMP],
    ["contains(created_at,2024)", "invalid value for filters: contains cannot be used on 't.created_at'"],
    ["not_like(name,abc\\)", "invalid value for filters: pattern 'abc\\' ends with an escape character"],
  ],
  ListExecutions: [
    ["eq(id,99999999999999999999)", NUMBER],
    ["eq(mode,-99999999999999999999)", NUMBER],
    ["gte(execution_created_at,2020)", TIMESTAMP],
    ["gte(started_at,0000-01-01)", TIMESTAMP],
    ["gt(duration,NaN)", "Failed to parse duration [NaN]"],
    [`gt(duration,${"9".repeat(400)})`, /^invalid value for filters: duration \[9{100}…\] is out of range$/],
    ["value_in(launch_plan.id,1;x)", NUMBER],
  ],
  ListNodeExecutions: [
    ["eq(id,99999999999999999999)", NUMBER],
    ["gte(node_execution_created_at,2020)", TIMESTAMP],
    [`lt(duration,${"1".repeat(400)}h)`, /^invalid value for filters: duration \[1{100}…\] is out of range$/],
    ["contains(parent_id,1)", "invalid value for filters: contains cannot be used on 'ne.parent_id'"],
  ],
  ListNamedEntities: [
    ["eq(state,99999999999999999999)", NUMBER],
    ["gte(state,x)", NUMBER],
    ["contains(state,1)", "invalid value for filters: contains cannot be used on 'nen.state'"],
  ],
};

describe("bad filters on every list", () => {
  for (const [rpc, call] of Object.entries(LISTS)) {
    it(`${rpc}: INVALID_ARGUMENT naming the filter, never a database error`, async () => {
      const column = rpc === "ListNamedEntities" ? "name" : rpc === "ListTasks" ? "name" : "phase";
      const cases: [string, string | RegExp][] = [
        ...(BAD_FILTERS[rpc] ?? []),
        [`eq(${column},a\0b)`, NUL],
        [`eq(${column},x)+eq(${column},\0)`, NUL],
        [`eq(${column},${"x".repeat(40_000)})`, "invalid value for filters: longer than 32768 characters"],
      ];
      for (const [filters, message] of cases) {
        const err = await expectCode(call(filters), Code.InvalidArgument, message);
        expect(err.rawMessage, filters.slice(0, 60)).not.toMatch(/syntax|SQL|relation|column|pg_|\$\d/);
      }
    });
  }

  it("compares numbers beyond int4 with int4 columns instead of failing", async () => {
    expect(
      (await t.admin.listExecutions({ id: P, limit: 5, filters: "eq(mode,3000000000)" })).executions,
    ).toEqual([]);
    const named = await t.admin.listNamedEntities({
      resourceType: ResourceType.TASK,
      ...P,
      limit: 5,
      filters: "value_in(state,0;3000000000)",
    });
    expect(named.entities.map((e) => e.id?.name).sort()).toEqual(["echo", "echo2"]);
  });

  it("refuses a 5 KB backtracking filter at once, and keeps serving other calls meanwhile", async () => {
    const nasty = `eq(${"(,".repeat(2_500)}`;
    const started = performance.now();
    const results = await Promise.allSettled([
      ...Array.from({ length: 8 }, () => t.admin.listTasks({ id: P, limit: 1, filters: nasty })),
      t.admin.getVersion({}),
    ]);
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(results.at(-1)?.status).toBe("fulfilled");
    await expectCode(
      t.admin.listTasks({ id: P, limit: 1, filters: nasty }),
      Code.InvalidArgument,
      "invalid value for filters",
    );
  });

  it("WatchExecutions refuses a bad filter value when it opens, not at the first change", async () => {
    const watching = (async () => {
      for await (const _ of t.watch.watchExecutions({ ...P, filters: "gte(execution_created_at,2020)" })) {
        // no event comes before the error
      }
    })();
    await expectCode(watching, Code.InvalidArgument, TIMESTAMP);
  });

  it("answers over grpc-js with the same code and text", async () => {
    const err = (await t.grpcJs
      .unary("listExecutions", { id: P, limit: 1, filters: "gte(execution_created_at,2020)" })
      .catch((e: unknown) => e)) as grpc.ServiceError;
    expect(err.code).toBe(Code.InvalidArgument);
    // grpc-js leaves reserved characters of the percent-encoded grpc-message (`:` as %3A) encoded.
    expect(decodeURIComponent(err.details)).toMatch(TIMESTAMP);
  });
});

/** A token of this list (a keyset cursor), with one field replaced. */
async function forged(call: (filters: string, token?: string) => Promise<{ token: string }>, change: object) {
  const { token } = await call("");
  expect(token).not.toBe("");
  const cursor = JSON.parse(Buffer.from(token, "base64url").toString("utf8")) as object;
  return Buffer.from(JSON.stringify({ ...cursor, ...change })).toString("base64url");
}

describe("bad page tokens on every list", () => {
  for (const [rpc, call] of Object.entries(LISTS)) {
    it(`${rpc}: invalid pagination token`, async () => {
      const { token: good } = await call("");
      const tokens = [
        "99999999999999999999",
        "-1",
        "abc",
        "1e3",
        good.slice(0, -4),
        await forged(call, { v: 12 }),
        await forged(call, { v: null }),
        await forged(call, { t: 7 }),
        await forged(call, { k: "bogus" }),
        await forged(call, { d: "sideways" }),
      ];
      if (rpc !== "ListNamedEntities") {
        // Sorted by a timestamp with a bigint tie-breaker: values of other types are forged.
        tokens.push(
          await forged(call, { v: "garbage" }),
          await forged(call, { v: "0000-01-01 00:00:00+00" }),
          await forged(call, { t: "x" }),
          await forged(call, { t: "99999999999999999999" }),
        );
      }
      for (const token of tokens) {
        const shown = token.length > 100 ? `${token.slice(0, 100)}…` : token;
        await expectCode(
          call("", token),
          Code.InvalidArgument,
          `invalid pagination token ${shown} for ${rpc}`,
        );
      }
      // A row offset (FlyteAdmin's tokens) still works, up to the largest bigint.
      await call("", "1");
      await call("", "9223372036854775807");
      await call("", good);
    });
  }

  it("pages executions sorted by a float column", async () => {
    const sortBy = { key: "duration", direction: Sort_Direction.ASCENDING };
    const names: string[] = [];
    let token = "";
    do {
      const page = await t.admin.listExecutions({ id: P, limit: 1, token, sortBy });
      names.push(...page.executions.map((e) => e.id?.name ?? ""));
      token = page.token;
    } while (token !== "");
    expect(names.sort()).toEqual(RUNS);
  });
});

describe("Relaunch and Recover with a name that is taken", () => {
  it("answer ALREADY_EXISTS without the constraint or Postgres's message, over both clients", async () => {
    const expected = "value with matching already exists (duplicate execution)";
    await expectCode(
      t.admin.relaunchExecution({ id: { ...P, name: "run-a" }, name: "run-b" }),
      Code.AlreadyExists,
      expected,
    );
    await expectCode(
      t.admin.recoverExecution({ id: { ...P, name: "run-a" }, name: "run-c" }),
      Code.AlreadyExists,
      expected,
    );
    for (const method of ["relaunchExecution", "recoverExecution"] as const) {
      const err = (await t.grpcJs
        .unary(method, { id: { ...P, name: "run-a" }, name: "run-b" })
        .catch((e: unknown) => e)) as grpc.ServiceError;
      expect({ code: err.code, details: err.details }).toEqual({
        code: Code.AlreadyExists,
        details: expected,
      });
    }
  });
});
