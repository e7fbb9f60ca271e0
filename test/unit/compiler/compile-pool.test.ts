// The compiler's worker thread: closures and compile errors come back as the in-thread compiler gives them, and the
// caller's event loop keeps running while a big workflow compiles.
import { create, fromBinary } from "@bufbuild/protobuf";
import { afterAll, describe, expect, it } from "vitest";
import { WorkflowSpecSchema } from "../../../gen/flyteidl/admin/workflow_pb.js";
import { CompiledWorkflowClosureSchema } from "../../../gen/flyteidl/core/compiler_pb.js";
import { formatCompileErrors } from "../../../server/compiler/compile-errors.js";
import { CompilePool } from "../../../server/compiler/compile-pool.js";
import { compileWorkflow } from "../../../server/compiler/compile-workflow.js";
import {
  bind,
  intType,
  taskId,
  taskNode,
  taskTemplate,
  workflowId,
  workflowTemplate,
} from "../../fixtures/flyte-builders.js";

const echo = taskTemplate({
  id: taskId("echo"),
  type: "echo",
  inputs: { a: intType() },
  outputs: { a: intType() },
});
const deps = { tasks: [echo], launchPlans: [] };
const pool = new CompilePool();

afterAll(() => pool.stop());

function chain(n: number, broken = false) {
  const nodes = Array.from({ length: n }, (_, i) =>
    taskNode(`n${i}`, taskId("echo"), [
      i === 0 ? bind("a", "", "x") : bind("a", `n${i - 1}`, broken && i === n - 1 ? "nope" : "a"),
    ]),
  );
  const template = workflowTemplate({
    id: workflowId(`chain${n}`),
    inputs: { x: intType() },
    outputs: { o: intType() },
    nodes,
    outputBindings: [bind("o", `n${n - 1}`, "a")],
  });
  return create(WorkflowSpecSchema, { template });
}

describe("CompilePool", () => {
  it("gives the closure the compiler gives", async () => {
    const spec = chain(5);
    const r = await pool.compile(spec, deps);
    if (!("closure" in r)) throw new Error(r.errors);
    const direct = compileWorkflow(spec, deps);
    if (!("closure" in direct)) throw new Error("compile failed");
    expect(fromBinary(CompiledWorkflowClosureSchema, r.closure)).toEqual(direct.closure);
  });

  it("gives Flyte's compile errors as text", async () => {
    const spec = chain(3, true);
    const direct = compileWorkflow(spec, deps);
    if (!("errors" in direct)) throw new Error("expected errors");
    expect(await pool.compile(spec, deps)).toEqual({ errors: formatCompileErrors(direct.errors) });
  });

  it("leaves the event loop free while a big workflow compiles", async () => {
    const spec = chain(20_000);
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    try {
      const r = await pool.compile(spec, deps);
      expect("closure" in r).toBe(true);
    } finally {
      clearInterval(timer);
    }
    // Compiling 20,000 nodes takes far longer than a few timer ticks; in-thread, none could fire meanwhile.
    expect(ticks).toBeGreaterThan(5);
  });

  it("runs jobs one after another, each with its own answer", async () => {
    const answers = await Promise.all([chain(2), chain(3, true), chain(4)].map((s) => pool.compile(s, deps)));
    expect(answers.map((a) => ("closure" in a ? "closure" : "errors"))).toEqual([
      "closure",
      "errors",
      "closure",
    ]);
  });
});
