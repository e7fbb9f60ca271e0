// The request fuzzer's own parts (test/support/fuzz*.ts): it recognises internal text, judges codes, plans the same
// mutations for the same seed and changes exactly one field of a request.
import { create, equals } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { ExecutionCreateRequestSchema } from "../../gen/flyteidl/admin/execution_pb.js";
import { launchPlanId, literalString } from "../fixtures/flyte-builders.js";
import { planMutations } from "../support/fuzz.js";
import { badAnswer, internalTextIn } from "../support/fuzz-checks.js";
import { mutate, pathText, valueAt } from "../support/fuzz-paths.js";
import { prng } from "../support/fuzz-values.js";

describe("internalTextIn", () => {
  it("finds database, runtime and path text", () => {
    for (const leak of [
      'duplicate key value violates unique constraint "executions_pkey"',
      'invalid input syntax for type bigint: "x"',
      'value "1e30" is out of range for type integer',
      'relation "tasks" does not exist',
      "failed with SQLSTATE 22P02",
      "error 23505",
      "TypeError: Cannot read properties of undefined (reading 'id')",
      "RangeError: Maximum call stack size exceeded",
      "Error: boom\n    at run (server/engine/x.ts:10:3)",
      `connect ENOENT ${process.cwd()}/data/.s.PGSQL.5432`,
      "Knex: Timeout acquiring a connection",
    ])
      expect(internalTextIn(leak), leak).toBeDefined();
  });

  it("lets Flyte's own messages through", () => {
    for (const ok of [
      "missing project",
      "invalid value for id.retry_attempt: 4294967295 is out of range (at most 2147483647)",
      "invalid value for event.occurred_at: timestamp out of range (0001-01-01T00:00:00Z to 9999-12-31T23:59:59.999999999Z)",
      'missing entity of type TASK with identifier project:"p" domain:"d" name:"../../etc/passwd" version:"v1"',
      "value with matching already exists (duplicate execution)",
      "invalid value: a value is too large to store",
      "limit 12345",
    ])
      expect(internalTextIn(ok), ok).toBeUndefined();
  });
});

describe("badAnswer", () => {
  it("refuses failure codes, Unimplemented for built rpcs and internal text", () => {
    expect(badAnswer(Code.Internal, "internal error", true)).toBe("code Internal");
    expect(badAnswer(Code.Unknown, "x", true)).toBe("code Unknown");
    expect(badAnswer(Code.DataLoss, "x", true)).toBe("code DataLoss");
    expect(badAnswer(Code.Unimplemented, "x", true)).toMatch(/built/);
    expect(badAnswer(Code.NotFound, "x", false)).toMatch(/not built/);
    expect(badAnswer(Code.InvalidArgument, "TypeError: x", true)).toMatch(/^internal text/);
    expect(badAnswer(Code.InvalidArgument, "missing project", true)).toBeUndefined();
    expect(badAnswer(Code.Unimplemented, "not built", false)).toBeUndefined();
  });
});

describe("planMutations", () => {
  const base = create(ExecutionCreateRequestSchema, {
    project: "p",
    domain: "d",
    name: "n",
    spec: { launchPlan: launchPlanId("lp"), tags: ["t"] },
    inputs: { literals: { s: literalString("x") } },
  });
  const plan = (seed: number, cap: number) =>
    planMutations(ExecutionCreateRequestSchema, base, cap, prng(seed)).map(
      (m) => `${pathText(m.path)}=${m.hostile.label}`,
    );

  it("is the same for the same seed, and another for another seed, within the cap", () => {
    expect(plan(7, 50)).toEqual(plan(7, 50));
    expect(plan(7, 50)).not.toEqual(plan(8, 50));
    expect(plan(7, 50)).toHaveLength(50);
    // First one value for every field the base sets, then the rest.
    expect(new Set(plan(7, 20).map((m) => m.split("=")[0]))).toContain("spec.launch_plan.name");
  });

  it("sets the one field on a copy, leaving the base request as it was", () => {
    const before = create(ExecutionCreateRequestSchema, base);
    for (const m of planMutations(ExecutionCreateRequestSchema, base, 200, prng(1))) {
      const value = m.hostile.make();
      const mutated = mutate(ExecutionCreateRequestSchema, base, m.path, value);
      expect(valueAt(mutated, m.path), pathText(m.path)).toEqual(value);
    }
    expect(equals(ExecutionCreateRequestSchema, base, before)).toBe(true);
  });
});
