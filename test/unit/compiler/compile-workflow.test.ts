import { clone, create, toJson } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { WorkflowSpecSchema } from "../../../gen/flyteidl/admin/workflow_pb.js";
import { CompiledWorkflowClosureSchema } from "../../../gen/flyteidl/core/compiler_pb.js";
import { ComparisonExpression_Operator } from "../../../gen/flyteidl/core/condition_pb.js";
import type { Node, WorkflowTemplate } from "../../../gen/flyteidl/core/workflow_pb.js";
import { NodeSchema } from "../../../gen/flyteidl/core/workflow_pb.js";
import { formatCompileErrors } from "../../../server/compiler/compile-errors.js";
import { type CompileResult, compileWorkflow } from "../../../server/compiler/compile-workflow.js";
import type { LaunchPlanInterface } from "../../../server/compiler/interfaces.js";
import {
  bind,
  boolType,
  collectionOf,
  intType,
  launchPlanId,
  noneType,
  stringType,
  taskId,
  taskNode,
  taskTemplate,
  unionOf,
  workflowId,
  workflowTemplate,
} from "../../fixtures/flyte-builders.js";

const add = taskTemplate({
  id: taskId("add"),
  inputs: { a: intType(), b: intType() },
  outputs: { o: intType() },
});
const greet = taskTemplate({
  id: taskId("greet"),
  inputs: { name: stringType() },
  outputs: { o: stringType() },
});
const maybe = taskTemplate({
  id: taskId("maybe"),
  inputs: { x: unionOf(intType(), noneType()) },
  outputs: {},
});
const tasks = [add, greet, maybe];

function compile(
  template: WorkflowTemplate,
  subWorkflows: WorkflowTemplate[] = [],
  launchPlans: LaunchPlanInterface[] = [],
): CompileResult {
  return compileWorkflow(create(WorkflowSpecSchema, { template, subWorkflows }), { tasks, launchPlans });
}

function errorsOf(r: CompileResult): string[] {
  return "errors" in r ? r.errors.map((e) => `${e.code}@${e.nodeId}`) : [];
}

const wf = (nodes: Node[], extra: Partial<Parameters<typeof workflowTemplate>[0]> = {}) =>
  workflowTemplate({ id: workflowId("wf"), inputs: { x: intType() }, outputs: {}, nodes, ...extra });

describe("compileWorkflow", () => {
  it("builds Flyte's closure shape for a one-task workflow", () => {
    const r = compile(
      wf([taskNode("n0", taskId("add"), [bind("a", "", "x"), bind("b", "start-node", "x")])], {
        outputs: { o0: intType() },
        outputBindings: [bind("o0", "n0", "o")],
      }),
    );
    if (!("closure" in r)) throw new Error(formatCompileErrors(r.errors));
    const primary = r.closure.primary;
    expect(primary?.template?.nodes.map((n) => n.id)).toEqual(["start-node", "end-node", "n0"]);
    const n0 = primary?.template?.nodes[2];
    const promiseNode = n0?.inputs[0]?.binding?.value;
    expect(promiseNode?.case === "promise" && promiseNode.value.nodeId).toBe("start-node");
    expect(toJson(CompiledWorkflowClosureSchema, r.closure)).toMatchObject({
      primary: {
        connections: {
          upstream: { n0: { ids: ["start-node"] }, "end-node": { ids: ["n0"] } },
          downstream: { "start-node": { ids: ["n0"] }, n0: { ids: ["end-node"] } },
        },
      },
      tasks: [{ template: { id: { name: "add" } } }],
    });
    expect(primary?.template?.nodes[1]?.inputs[0]?.var).toBe("o0");
  });

  it("orders by upstream ids and data dependencies", () => {
    const r = compile(
      wf([
        taskNode("a", taskId("add"), [bind("a", "", "x"), bind("b", "", "x")]),
        taskNode("b", taskId("add"), [bind("a", "a", "o"), bind("b", "", "x")]),
        taskNode("c", taskId("add"), [bind("a", "", "x"), bind("b", "", "x")], ["b"]),
      ]),
    );
    if (!("closure" in r)) throw new Error(formatCompileErrors(r.errors));
    const c = r.closure.primary?.connections;
    expect(c?.upstream.b?.ids).toEqual(["a"]);
    expect(c?.upstream.c?.ids).toEqual(["b"]);
    expect(c?.downstream["start-node"]?.ids).toEqual(["a"]);
    expect(c?.upstream["end-node"]?.ids).toEqual(["c"]);
  });

  it("reports each compile error with its code and node", () => {
    expect(errorsOf(compile(wf([])))).toContain("NoNodesFound@wf");
    expect(errorsOf(compile(wf([taskNode("n0", taskId("nope"), [])])))).toEqual(["TaskReferenceNotFound@n0"]);
    expect(errorsOf(compile(wf([taskNode("n0", taskId("add"), [bind("a", "", "x")])])))).toEqual([
      "ParameterNotBound@n0",
    ]);
    expect(
      errorsOf(
        compile(
          wf([taskNode("n0", taskId("add"), [bind("a", "", "x"), bind("a", "", "x"), bind("b", "", "x")])]),
        ),
      ),
    ).toEqual(["ParameterBoundMoreThanOnce@n0"]);
    expect(
      errorsOf(
        compile(
          wf([taskNode("n0", taskId("add"), [bind("a", "", "x"), bind("b", "", "x"), bind("zz", "", "x")])]),
        ),
      ),
    ).toEqual(["VariableNameNotFound@n0"]);
    expect(
      errorsOf(compile(wf([taskNode("n0", taskId("add"), [bind("a", "", "nope"), bind("b", "", "x")])]))),
    ).toEqual(["VariableNameNotFound@n0"]);
    expect(errorsOf(compile(wf([taskNode("n0", taskId("greet"), [bind("name", "", "x")])])))).toEqual([
      "MismatchingTypes@n0",
    ]);
    expect(
      errorsOf(compile(wf([taskNode("n0", taskId("add"), [bind("a", "ghost", "o"), bind("b", "", "x")])]))),
    ).toContain("NodeReferenceNotFound@n0");
    const dup = taskNode("n0", taskId("add"), [bind("a", "", "x"), bind("b", "", "x")]);
    expect(errorsOf(compile(wf([dup, dup])))).toContain("DuplicateId@n0");
  });

  it("refuses node ids that cannot name a directory or a flyte:// URL segment, at every depth", () => {
    const node = (id: string) => taskNode(id, taskId("add"), [bind("a", "", "x"), bind("b", "", "x")]);
    for (const id of ["../../tmp/x", "a\\b", "..", ".", "tab\tid", "n".repeat(256), "é".repeat(128)]) {
      const r = compile(wf([node(id)]));
      expect("errors" in r ? r.errors.map((e) => e.code) : [], id).toContain("InvalidValue");
    }
    const problems = (r: CompileResult) => ("errors" in r ? r.errors.map((e) => e.description) : []);
    expect(problems(compile(wf([node("../x")])))).toContain(
      'Invalid value [../x] for [id]: a node id cannot contain "/" or "\\".',
    );
    expect(problems(compile(wf([node("n".repeat(300))])))[0]).toBe(
      `Invalid value [${"n".repeat(64)}…] for [id]: a node id cannot exceed 255 bytes.`,
    );
    const nested = create(NodeSchema, {
      id: "pick",
      inputs: [bind("x", "", "x")],
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
                    leftValue: { val: { case: "var", value: "x" } },
                    rightValue: { val: { case: "var", value: "x" } },
                  },
                },
              },
              thenNode: node("../../up"),
            },
            default: { case: "elseNode", value: node("ok") },
          },
        },
      },
    });
    expect(errorsOf(compile(wf([nested])))).toContain("InvalidValue@../../up");
    const unnamed = clone(NodeSchema, nested);
    if (unnamed.target.case === "branchNode" && unnamed.target.value.ifElse?.case?.thenNode !== undefined)
      unnamed.target.value.ifElse.case.thenNode.id = "";
    expect(errorsOf(compile(wf([unnamed])))).toContain("ValueRequired@");
    for (const id of ["n0", "start-node-1", "n1-0-dn2", "my.node_name", "ünïcode"])
      expect(errorsOf(compile(wf([node(id)]))), id).toEqual([]);
  });

  it("refuses gates that could never be opened: no condition, or a signal id the signal rpcs refuse", () => {
    const gate = (condition: unknown) =>
      create(NodeSchema, { id: "g", target: { case: "gateNode", value: { condition } as never } });
    const descriptions = (r: CompileResult) => ("errors" in r ? r.errors.map((e) => e.description) : []);
    expect(descriptions(compile(wf([gate({ case: undefined })])))).toContain(
      "Value required [gate_node.condition].",
    );
    expect(descriptions(compile(wf([gate({ case: "approve", value: { signalId: "" } })])))).toContain(
      "Value required [gate_node.approve.signal_id].",
    );
    expect(
      descriptions(
        compile(wf([gate({ case: "signal", value: { signalId: "s".repeat(256), type: stringType() } })])),
      ),
    ).toContain(
      `Invalid value [${"s".repeat(64)}…] for [gate_node.signal.signal_id]: a signal id cannot exceed 255 characters.`,
    );
    expect(descriptions(compile(wf([gate({ case: "approve", value: { signalId: "a\nb" } })])))).toContain(
      "Invalid value [a\nb] for [gate_node.approve.signal_id]: a signal id cannot contain control characters.",
    );
    expect(errorsOf(compile(wf([gate({ case: "approve", value: { signalId: "é".repeat(255) } })])))).toEqual(
      [],
    );
    expect(errorsOf(compile(wf([gate({ case: "sleep", value: { duration: { seconds: 1n } } })])))).toEqual(
      [],
    );
  });

  it("detects cycles and unreachable nodes", () => {
    const cyc = compile(
      wf([
        taskNode("a", taskId("add"), [bind("a", "b", "o"), bind("b", "", "x")]),
        taskNode("b", taskId("add"), [bind("a", "a", "o"), bind("b", "", "x")]),
      ]),
    );
    expect(errorsOf(cyc)).toContain("CycleDetected@a");
    expect(errorsOf(cyc)).toContain("UnreachableNodes@a");
  });

  it("casts none into optional inputs and rejects an optional where a plain int is required", () => {
    expect(errorsOf(compile(wf([taskNode("n0", taskId("maybe"), [bind("x", "", "x")])])))).toEqual([]);
    const opt = workflowTemplate({
      id: workflowId("wf2"),
      inputs: { y: unionOf(intType(), noneType()) },
      nodes: [taskNode("n0", taskId("add"), [bind("a", "", "y"), bind("b", "", "y")])],
    });
    expect(errorsOf(compile(opt))).toEqual(["MismatchingTypes@n0", "MismatchingTypes@n0"]);
  });

  it("compiles branch nodes and requires a condition and a default", () => {
    const then = taskNode("then", taskId("add"), [bind("a", "", "x"), bind("b", "", "x")]);
    const other = taskNode("else", taskId("add"), [bind("a", "", "x"), bind("b", "", "x")]);
    const branch = (withDefault: boolean, withCondition = true): Node =>
      create(NodeSchema, {
        id: "br",
        inputs: [bind("x", "", "x")],
        target: {
          case: "branchNode",
          value: {
            ifElse: {
              case: {
                thenNode: then,
                ...(withCondition
                  ? {
                      condition: {
                        expr: {
                          case: "comparison",
                          value: {
                            operator: ComparisonExpression_Operator.GT,
                            leftValue: { val: { case: "var", value: "x" } },
                            rightValue: {
                              val: { case: "primitive", value: { value: { case: "integer", value: 3n } } },
                            },
                          },
                        },
                      },
                    }
                  : {}),
              },
              default: withDefault ? { case: "elseNode", value: other } : { case: undefined },
            },
          },
        },
      });
    const ok = compile(
      wf([branch(true)], { outputs: { o: intType() }, outputBindings: [bind("o", "br", "o")] }),
    );
    expect(errorsOf(ok)).toEqual([]);
    expect(errorsOf(compile(wf([branch(false)])))).toEqual(["BranchNodeHasNoDefault@br"]);
    expect(errorsOf(compile(wf([branch(true, false)])))).toEqual(["BranchNodeHasNoCondition@br"]);
  });

  it("resolves sub-workflows, launch plans, gates and array nodes", () => {
    const sub = workflowTemplate({
      id: workflowId("sub"),
      inputs: { a: intType() },
      outputs: { s: intType() },
      nodes: [taskNode("s0", taskId("add"), [bind("a", "", "a"), bind("b", "", "a")])],
      outputBindings: [bind("s", "s0", "o")],
    });
    const lp: LaunchPlanInterface = {
      id: launchPlanId("child"),
      expectedInputs: { $typeName: "flyteidl.core.ParameterMap", parameters: {} },
      expectedOutputs: {
        $typeName: "flyteidl.core.VariableMap",
        variables: {
          r: {
            $typeName: "flyteidl.core.Variable",
            type: boolType(),
            description: "",
            artifactPartialId: undefined,
            artifactTag: undefined,
          },
        },
      },
    };
    const nodes: Node[] = [
      create(NodeSchema, {
        id: "sw",
        inputs: [bind("a", "", "x")],
        target: {
          case: "workflowNode",
          value: { reference: { case: "subWorkflowRef", value: workflowId("sub") } },
        },
      }),
      create(NodeSchema, {
        id: "lp",
        target: {
          case: "workflowNode",
          value: { reference: { case: "launchplanRef", value: launchPlanId("child") } },
        },
      }),
      create(NodeSchema, {
        id: "sig",
        target: {
          case: "gateNode",
          value: {
            condition: {
              case: "signal",
              value: { signalId: "s", type: stringType(), outputVariableName: "o" },
            },
          },
        },
      }),
      create(NodeSchema, {
        id: "ok",
        inputs: [bind("v", "sig", "o")],
        target: { case: "gateNode", value: { condition: { case: "approve", value: { signalId: "go" } } } },
      }),
      create(NodeSchema, {
        id: "map",
        inputs: [bind("name", "", "names")],
        target: {
          case: "arrayNode",
          value: {
            node: taskNode("inner", taskId("greet")),
            isOriginalSubNodeInterface: true,
            parallelismOption: { case: "parallelism", value: 2 },
          },
        },
      }),
    ];
    const r = compile(
      workflowTemplate({
        id: workflowId("wf"),
        inputs: { x: intType(), names: collectionOf(stringType()) },
        outputs: { s: intType(), r: boolType(), v: stringType(), all: collectionOf(stringType()) },
        nodes,
        outputBindings: [
          bind("s", "sw", "s"),
          bind("r", "lp", "r"),
          bind("v", "ok", "v"),
          bind("all", "map", "o"),
        ],
      }),
      [sub],
      [lp],
    );
    if (!("closure" in r)) throw new Error(formatCompileErrors(r.errors));
    expect(r.closure.subWorkflows[0]?.template?.nodes.map((n) => n.id)).toEqual([
      "start-node",
      "end-node",
      "s0",
    ]);
    expect(r.closure.primary?.connections?.upstream.ok?.ids).toEqual(["sig"]);
    const missing = compile(
      wf([
        create(NodeSchema, {
          id: "sw",
          target: {
            case: "workflowNode",
            value: { reference: { case: "subWorkflowRef", value: workflowId("ghost") } },
          },
        }),
      ]),
    );
    expect(errorsOf(missing)).toEqual(["WorkflowReferenceNotFound@sw"]);
  });

  it("formats errors as Flyte does", () => {
    const r = compile(wf([taskNode("n0", taskId("nope"), [])]));
    if (!("errors" in r)) throw new Error("expected errors");
    expect(formatCompileErrors(r.errors)).toBe(
      "Collected Errors: 1\n\tError 0: Code: TaskReferenceNotFound, Node Id: n0, Description: Referenced Task [flytesnacks/development/nope/v1] not found.\n",
    );
  });
});
