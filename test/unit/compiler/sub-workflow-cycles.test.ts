// Sub-workflows that contain themselves, directly or through others, are compile errors wherever the reference
// hides (plain node, branch case, array sub-node, failure node); sub-workflows shared without a loop are not.
import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { WorkflowSpecSchema } from "../../../gen/flyteidl/admin/workflow_pb.js";
import { ComparisonExpression_Operator } from "../../../gen/flyteidl/core/condition_pb.js";
import type { Identifier } from "../../../gen/flyteidl/core/identifier_pb.js";
import { type Node, NodeSchema, type WorkflowTemplate } from "../../../gen/flyteidl/core/workflow_pb.js";
import { formatCompileErrors } from "../../../server/compiler/compile-errors.js";
import { type CompileResult, compileWorkflow } from "../../../server/compiler/compile-workflow.js";
import {
  bind,
  collectionOf,
  intType,
  taskId,
  taskNode,
  taskTemplate,
  workflowId,
  workflowTemplate,
} from "../../fixtures/flyte-builders.js";

const inc = taskTemplate({ id: taskId("inc"), inputs: { a: intType() }, outputs: { o: intType() } });

const subNode = (id: string, ref: Identifier): Node =>
  create(NodeSchema, {
    id,
    inputs: [bind("a", "", "a")],
    target: { case: "workflowNode", value: { reference: { case: "subWorkflowRef", value: ref } } },
  });

/** A workflow (a: int) -> o: int whose nodes are `nodes` (the first one's `o` is the output). */
const wf = (name: string, ...nodes: Node[]): WorkflowTemplate =>
  workflowTemplate({
    id: workflowId(name),
    inputs: { a: intType() },
    outputs: { o: intType() },
    nodes: nodes.length > 0 ? nodes : [taskNode("t", taskId("inc"), [bind("a", "", "a")])],
    outputBindings: [bind("o", nodes[0]?.id ?? "t", "o")],
  });

const branchTo = (id: string, ref: Identifier): Node =>
  create(NodeSchema, {
    id,
    inputs: [bind("a", "", "a")],
    target: {
      case: "branchNode",
      value: {
        ifElse: {
          case: {
            condition: {
              expr: {
                case: "comparison",
                value: {
                  operator: ComparisonExpression_Operator.GT,
                  leftValue: { val: { case: "var", value: "a" } },
                  rightValue: {
                    val: { case: "primitive", value: { value: { case: "integer", value: 0n } } },
                  },
                },
              },
            },
            thenNode: subNode(`${id}-then`, ref),
          },
          default: { case: "elseNode", value: taskNode(`${id}-else`, taskId("inc"), [bind("a", "", "a")]) },
        },
      },
    },
  });

function compile(primary: WorkflowTemplate, subs: WorkflowTemplate[]): CompileResult {
  return compileWorkflow(create(WorkflowSpecSchema, { template: primary, subWorkflows: subs }), {
    tasks: [inc],
    launchPlans: [],
  });
}

const cycles = (r: CompileResult) =>
  "errors" in r
    ? r.errors.filter((e) => e.code === "CycleDetected").map((e) => [e.nodeId, e.description])
    : [];

const key = (name: string) => `flytesnacks/development/${name}/v1`;

describe("sub-workflow cycles", () => {
  it("reject a workflow that lists itself as its own sub-workflow", () => {
    const self = wf("self", subNode("again", workflowId("self")));
    const r = compile(self, [self]);
    expect(cycles(r)).toEqual([
      [
        "again",
        `A cycle has been detected among sub-workflows [${key("self")} -> ${key("self")}]: a workflow cannot contain itself.`,
      ],
    ]);
    if (!("errors" in r)) throw new Error("expected errors");
    expect(formatCompileErrors(r.errors)).toContain("Code: CycleDetected, Node Id: again, Description: ");
  });

  it("reject A -> B -> A, reported once", () => {
    const a = wf("a", subNode("to-b", workflowId("b")));
    const b = wf("b", subNode("to-a", workflowId("a")));
    const r = compile(wf("top", subNode("run-a", workflowId("a"))), [a, b]);
    expect(cycles(r)).toEqual([
      [
        "to-a",
        `A cycle has been detected among sub-workflows [${key("a")} -> ${key("b")} -> ${key("a")}]: a workflow cannot contain itself.`,
      ],
    ]);
  });

  it("find references inside branch cases, array nodes and failure nodes", () => {
    const viaBranch = wf("br", branchTo("choose", workflowId("br2")));
    const br2 = wf("br2", subNode("back", workflowId("br")));
    expect(
      cycles(compile(wf("top", subNode("s", workflowId("br"))), [viaBranch, br2])).map(([n]) => n),
    ).toEqual(["back"]);

    const mapped = workflowTemplate({
      id: workflowId("mapped"),
      inputs: { xs: collectionOf(intType()) },
      outputs: {},
      nodes: [
        create(NodeSchema, {
          id: "each",
          inputs: [bind("a", "", "xs")],
          target: { case: "arrayNode", value: { node: subNode("element", workflowId("mapped")) } },
        }),
      ],
    });
    expect(cycles(compile(wf("top"), [mapped])).map(([n]) => n)).toEqual(["element"]);

    const failing = wf("failing");
    failing.failureNode = subNode("on-failure", workflowId("failing"));
    expect(cycles(compile(wf("top"), [failing])).map(([n]) => n)).toEqual(["on-failure"]);
  });

  it("accept sub-workflows shared without a loop (a diamond, a chain)", () => {
    const leaf = wf("leaf");
    const left = wf("left", subNode("l", workflowId("leaf")));
    const right = wf("right", subNode("r", workflowId("leaf")));
    const top = wf("top", subNode("x", workflowId("left")), subNode("y", workflowId("right")));
    const r = compile(top, [left, right, leaf]);
    if (!("closure" in r)) throw new Error(formatCompileErrors(r.errors));
    expect(r.closure.subWorkflows.map((s) => s.template?.id?.name)).toEqual(["left", "right", "leaf"]);
  });
});
