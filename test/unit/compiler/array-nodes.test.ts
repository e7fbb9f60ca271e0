import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { WorkflowSpecSchema } from "../../../gen/flyteidl/admin/workflow_pb.js";
import { type Node, NodeSchema } from "../../../gen/flyteidl/core/workflow_pb.js";
import { type CompileResult, compileWorkflow } from "../../../server/compiler/compile-workflow.js";
import {
  bind,
  collectionOf,
  intType,
  noneType,
  stringType,
  taskId,
  taskNode,
  taskTemplate,
  unionOf,
  workflowId,
  workflowTemplate,
} from "../../fixtures/flyte-builders.js";

// A flytekit map task: its own task, every input but the bound `prefix` and its output made lists.
const mapTask = taskTemplate({
  id: taskId("mod.map_greet_0123abcd-arraynode"),
  inputs: { name: collectionOf(stringType()), prefix: stringType() },
  outputs: { o: collectionOf(unionOf(stringType(), noneType())) },
});
// The plain task an `array_node` over a reference task maps (its original, scalar interface).
const greet = taskTemplate({
  id: taskId("greet"),
  inputs: { name: stringType(), prefix: stringType() },
  outputs: { o: stringType() },
});

function arrayNode(task: string, original: boolean | undefined, bound: string[] = []): Node {
  return create(NodeSchema, {
    id: "n0",
    inputs: [bind("name", "", "names"), bind("prefix", "", "prefix")],
    target: {
      case: "arrayNode",
      value: {
        node: taskNode(task, taskId(task)),
        ...(original === undefined ? {} : { isOriginalSubNodeInterface: original }),
        boundInputs: bound,
      },
    },
  });
}

function compile(node: Node, output: ReturnType<typeof collectionOf>): CompileResult {
  const template = workflowTemplate({
    id: workflowId("wf"),
    inputs: { names: collectionOf(stringType()), prefix: stringType() },
    outputs: { all: output },
    nodes: [node],
    outputBindings: [bind("all", "n0", "o")],
  });
  return compileWorkflow(create(WorkflowSpecSchema, { template }), {
    tasks: [mapTask, greet],
    launchPlans: [],
  });
}

const errorsOf = (r: CompileResult) => ("errors" in r ? r.errors.map((e) => `${e.code}@${e.nodeId}`) : []);

describe("array node interfaces", () => {
  const optionalStrings = collectionOf(unionOf(stringType(), noneType()));

  it("take a map task's list-shaped interface as it is (is_original_sub_node_interface false or unset)", () => {
    const name = "mod.map_greet_0123abcd-arraynode";
    expect(errorsOf(compile(arrayNode(name, false, ["prefix"]), optionalStrings))).toEqual([]);
    expect(errorsOf(compile(arrayNode(name, undefined, ["prefix"]), optionalStrings))).toEqual([]);
  });

  it("make an original interface list-shaped, bound inputs aside (is_original_sub_node_interface true)", () => {
    expect(errorsOf(compile(arrayNode("greet", true, ["prefix"]), collectionOf(stringType())))).toEqual([]);
    // Without `prefix` bound, it too must be a list.
    expect(errorsOf(compile(arrayNode("greet", true), collectionOf(stringType())))).toEqual([
      "MismatchingTypes@n0",
    ]);
  });

  it("refuse list bindings to a scalar interface that is not marked original", () => {
    expect(errorsOf(compile(arrayNode("greet", false, ["prefix"]), collectionOf(stringType())))).toEqual([
      "MismatchingTypes@n0",
      "MismatchingTypes@end-node",
    ]);
  });

  it("give the node's outputs the sub-interface's types (a list of lists stays so)", () => {
    const r = compile(arrayNode("greet", true, ["prefix"]), collectionOf(collectionOf(stringType())));
    expect(errorsOf(r)).toEqual(["MismatchingTypes@end-node"]);
    expect(errorsOf(compile(arrayNode("greet", true, ["prefix"]), intType()))).toEqual([
      "MismatchingTypes@end-node",
    ]);
  });
});
