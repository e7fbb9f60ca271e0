// The engine's guard on inline sub-workflow nesting: exact depths for chains and shared sub-workflows, endless
// for a sub-workflow that contains itself, and an error only past the limit.
import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { type CompiledWorkflow, CompiledWorkflowSchema } from "../../../gen/flyteidl/core/compiler_pb.js";
import { ExecutionError_ErrorKind } from "../../../gen/flyteidl/core/execution_pb.js";
import { type Node, NodeSchema } from "../../../gen/flyteidl/core/workflow_pb.js";
import { idKey } from "../../../server/compiler/interfaces.js";
import {
  MAX_SUB_WORKFLOW_DEPTH,
  nestingError,
  subWorkflowDepth,
} from "../../../server/engine/sub-workflow-depth.js";
import { taskId, taskNode, workflowId, workflowTemplate } from "../../fixtures/flyte-builders.js";

const subNode = (id: string, ref: string): Node =>
  create(NodeSchema, {
    id,
    target: {
      case: "workflowNode",
      value: { reference: { case: "subWorkflowRef", value: workflowId(ref) } },
    },
  });

/** Compiled sub-workflows by name, each with the given nodes, and a resolver over them. */
function closureOf(defs: Record<string, Node[]>) {
  const subs = new Map<string, CompiledWorkflow>();
  for (const [name, nodes] of Object.entries(defs)) {
    const template = workflowTemplate({
      id: workflowId(name),
      nodes: nodes.length > 0 ? nodes : [taskNode("t", taskId("t"))],
    });
    subs.set(idKey(workflowId(name)), create(CompiledWorkflowSchema, { template }));
  }
  const resolve = (n: Node) =>
    n.target.case === "workflowNode" && n.target.value.reference.case === "subWorkflowRef"
      ? subs.get(idKey(n.target.value.reference.value))
      : undefined;
  const get = (name: string) => subs.get(idKey(workflowId(name))) as CompiledWorkflow;
  return { get, resolve };
}

describe("sub-workflow depth", () => {
  it("counts the levels of a chain and of shared sub-workflows exactly", () => {
    const c = closureOf({
      top: [subNode("l", "left"), subNode("r", "right")],
      left: [subNode("x", "leaf")],
      right: [subNode("y", "mid")],
      mid: [subNode("z", "leaf")],
      leaf: [],
    });
    expect(subWorkflowDepth(c.get("leaf"), c.resolve)).toBe(1);
    expect(subWorkflowDepth(c.get("top"), c.resolve)).toBe(4);
    expect(subWorkflowDepth(c.get("left"), c.resolve)).toBe(2);
  });

  it("finds references in failure nodes and is endless for a sub-workflow that contains itself", () => {
    const c = closureOf({ a: [subNode("to-b", "b")], b: [], self: [] });
    const b = c.get("b");
    if (b.template !== undefined) b.template.failureNode = subNode("back", "a");
    expect(subWorkflowDepth(c.get("a"), c.resolve)).toBe(Number.POSITIVE_INFINITY);
    const self = c.get("self");
    self.template?.nodes.push(subNode("again", "self"));
    expect(nestingError("sw", self, c.resolve)).toMatchObject({
      code: "MaxNestingDepthExceeded",
      kind: ExecutionError_ErrorKind.USER,
      message:
        "sub-workflow [self] of node [sw] contains itself, directly or through other sub-workflows, so it would nest without end",
    });
  });

  it("fails only past the limit", () => {
    const chain = (levels: number) => {
      const defs: Record<string, Node[]> = {};
      for (let i = 1; i <= levels; i++) defs[`s${i}`] = i < levels ? [subNode("n", `s${i + 1}`)] : [];
      return closureOf(defs);
    };
    const atLimit = chain(MAX_SUB_WORKFLOW_DEPTH);
    expect(nestingError("sw", atLimit.get("s1"), atLimit.resolve)).toBeUndefined();
    const beyond = chain(MAX_SUB_WORKFLOW_DEPTH + 1);
    expect(nestingError("sw", beyond.get("s1"), beyond.resolve)?.message).toBe(
      `sub-workflows under node [sw] nest ${MAX_SUB_WORKFLOW_DEPTH + 1} levels deep, more than the limit of ${MAX_SUB_WORKFLOW_DEPTH}`,
    );
  });
});
