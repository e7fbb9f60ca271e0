// The closure decoded in steps is the closure fromBinary gives, and a big one lets the event loop run in between.
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { WorkflowSpecSchema } from "../../../gen/flyteidl/admin/workflow_pb.js";
import { CompiledWorkflowClosureSchema } from "../../../gen/flyteidl/core/compiler_pb.js";
import { NodeSchema } from "../../../gen/flyteidl/core/workflow_pb.js";
import { compileWorkflow } from "../../../server/compiler/compile-workflow.js";
import { decodeClosureInSteps } from "../../../server/transformers/closure-decoder.js";
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

/** A chain of n nodes and, with `sub`, the same chain again as a sub-workflow of a one-node workflow. */
function closureBytes(n: number, sub = false): Uint8Array {
  const nodes = Array.from({ length: n }, (_, i) =>
    taskNode(`n${i}`, taskId("echo"), [i === 0 ? bind("a", "", "x") : bind("a", `n${i - 1}`, "a")]),
  );
  const chain = workflowTemplate({
    id: workflowId("chain"),
    inputs: { x: intType() },
    outputs: { o: intType() },
    nodes,
    outputBindings: [bind("o", `n${n - 1}`, "a")],
  });
  const spec = sub
    ? create(WorkflowSpecSchema, {
        template: workflowTemplate({
          id: workflowId("outer"),
          inputs: { x: intType() },
          outputs: { o: intType() },
          nodes: [
            create(NodeSchema, {
              id: "sw",
              inputs: [bind("x", "", "x")],
              target: {
                case: "workflowNode",
                value: { reference: { case: "subWorkflowRef", value: workflowId("chain") } },
              },
            }),
          ],
          outputBindings: [bind("o", "sw", "o")],
        }),
        subWorkflows: [chain],
      })
    : create(WorkflowSpecSchema, { template: chain });
  const r = compileWorkflow(spec, { tasks: [echo], launchPlans: [] });
  if (!("closure" in r)) throw new Error(JSON.stringify(r.errors));
  return toBinary(CompiledWorkflowClosureSchema, r.closure);
}

describe("decodeClosureInSteps", () => {
  it("gives what fromBinary gives", async () => {
    for (const [n, sub] of [
      [1, false],
      [3, true],
      [1_000, false],
      [700, true],
    ] as const) {
      const bytes = closureBytes(n, sub);
      const stepped = await decodeClosureInSteps(bytes, () => Promise.resolve());
      expect(stepped).toEqual(fromBinary(CompiledWorkflowClosureSchema, bytes));
    }
  });

  it("pauses between steps of a big closure, and not for a small one", async () => {
    let pauses = 0;
    const pause = () => {
      pauses++;
      return new Promise<void>((r) => setImmediate(r));
    };
    await decodeClosureInSteps(closureBytes(5), pause);
    expect(pauses).toBe(0);
    await decodeClosureInSteps(closureBytes(5_000), pause);
    expect(pauses).toBeGreaterThanOrEqual(5_000 / 256);
  });
});
