// The typed interface of each kind of node, as the compiler sees it: inputs (with whether they must be bound) and
// outputs.
import { create } from "@bufbuild/protobuf";
import type { Identifier } from "../../gen/flyteidl/core/identifier_pb.js";
import type { ParameterMap, TypedInterface, VariableMap } from "../../gen/flyteidl/core/interface_pb.js";
import type { TaskTemplate } from "../../gen/flyteidl/core/tasks_pb.js";
import { type LiteralType, LiteralTypeSchema } from "../../gen/flyteidl/core/types_pb.js";
import type { Node, WorkflowTemplate } from "../../gen/flyteidl/core/workflow_pb.js";
import { type CompileError, compileError } from "./compile-errors.js";

export interface InputSpec {
  readonly type: LiteralType;
  readonly required: boolean;
}

export interface NodeInterface {
  readonly inputs: ReadonlyMap<string, InputSpec>;
  readonly outputs: ReadonlyMap<string, LiteralType>;
  /** Approve gates pass whatever they are given through: any input name is accepted. */
  readonly openInputs?: boolean;
}

export interface LaunchPlanInterface {
  readonly id: Identifier;
  readonly expectedInputs: ParameterMap | undefined;
  readonly expectedOutputs: VariableMap | undefined;
}

export interface CompileDeps {
  readonly tasks: ReadonlyMap<string, TaskTemplate>;
  readonly launchPlans: ReadonlyMap<string, LaunchPlanInterface>;
  readonly subWorkflows: ReadonlyMap<string, WorkflowTemplate>;
}

export const idKey = (
  id: { project: string; domain: string; name: string; version: string } | undefined,
): string => (id === undefined ? "" : `${id.project}/${id.domain}/${id.name}/${id.version}`);

const anyType = (): LiteralType => create(LiteralTypeSchema);

function varsOf(vm: VariableMap | undefined): Map<string, LiteralType> {
  return new Map(Object.entries(vm?.variables ?? {}).map(([k, v]) => [k, v.type ?? anyType()]));
}

export function fromTypedInterface(ti: TypedInterface | undefined): NodeInterface {
  const inputs = new Map<string, InputSpec>();
  for (const [k, t] of varsOf(ti?.inputs)) inputs.set(k, { type: t, required: true });
  return { inputs, outputs: varsOf(ti?.outputs) };
}

function fromLaunchPlan(lp: LaunchPlanInterface): NodeInterface {
  const inputs = new Map<string, InputSpec>();
  for (const [k, p] of Object.entries(lp.expectedInputs?.parameters ?? {})) {
    const hasDefault = p.behavior.case === "default";
    inputs.set(k, {
      type: p.var?.type ?? anyType(),
      required: p.behavior.case === "required" ? p.behavior.value : !hasDefault,
    });
  }
  return { inputs, outputs: varsOf(lp.expectedOutputs) };
}

function collectionOf(t: LiteralType): LiteralType {
  return create(LiteralTypeSchema, { type: { case: "collectionType", value: t } });
}

/** An array node's interface from its sub-node's original one: inputs not in `bound` and outputs as collections. */
function listShaped(sub: NodeInterface, bound: readonly string[]): NodeInterface {
  const whole = new Set(bound);
  const inputs = new Map<string, InputSpec>();
  for (const [k, spec] of sub.inputs)
    inputs.set(k, whole.has(k) ? spec : { type: collectionOf(spec.type), required: spec.required });
  const outputs = new Map([...sub.outputs].map(([k, v]) => [k, collectionOf(v)] as const));
  return { inputs, outputs };
}

/** Resolves a node's interface, or reports why it cannot be resolved. `inner` resolves nested nodes. */
export function nodeInterface(
  node: Node,
  deps: CompileDeps,
  errors: CompileError[],
): NodeInterface | undefined {
  const t = node.target;
  switch (t.case) {
    case "taskNode": {
      const ref = t.value.reference.case === "referenceId" ? t.value.reference.value : undefined;
      const task = deps.tasks.get(idKey(ref));
      if (task === undefined) {
        errors.push(
          compileError("TaskReferenceNotFound", node.id, `Referenced Task [${idKey(ref)}] not found.`),
        );
        return undefined;
      }
      return fromTypedInterface(task.interface);
    }
    case "workflowNode": {
      const ref = t.value.reference;
      if (ref.case === "launchplanRef") {
        const lp = deps.launchPlans.get(idKey(ref.value));
        if (lp === undefined) {
          errors.push(
            compileError(
              "WorkflowReferenceNotFound",
              node.id,
              `Referenced Workflow [${idKey(ref.value)}] not found.`,
            ),
          );
          return undefined;
        }
        return fromLaunchPlan(lp);
      }
      const sub = deps.subWorkflows.get(idKey(ref.value));
      if (sub === undefined) {
        errors.push(
          compileError(
            "WorkflowReferenceNotFound",
            node.id,
            `Referenced Workflow [${idKey(ref.value)}] not found.`,
          ),
        );
        return undefined;
      }
      return fromTypedInterface(sub.interface);
    }
    case "gateNode":
      checkGate(node, errors);
      return gateInterface(node);
    case "arrayNode": {
      const inner = t.value.node;
      if (inner === undefined) {
        errors.push(compileError("ValueRequired", node.id, "Value required [node]."));
        return undefined;
      }
      const sub = nodeInterface(inner, deps, errors);
      if (sub === undefined) return undefined;
      // flytekit's map tasks send the list-shaped interface already (is_original_sub_node_interface false; unset is
      // read the same way); launch plans and reference tasks send their original one (true), made list-shaped here.
      return t.value.isOriginalSubNodeInterface === true ? listShaped(sub, t.value.boundInputs) : sub;
    }
    case "branchNode":
      return undefined; // resolved by the branch compiler, which needs the cases' interfaces
    default:
      errors.push(compileError("ValueRequired", node.id, "Value required [target]."));
      return undefined;
  }
}

/** What a signal id may hold: the signal rpcs' rules (signal-manager.ts), or no one could ever set it. */
const MAX_SIGNAL_ID_CHARS = 255;

/** A gate waits for something: a sleep, or a signal id that GetOrCreateSignal and SetSignal accept. */
function checkGate(node: Node, errors: CompileError[]): void {
  const g = node.target.case === "gateNode" ? node.target.value.condition : undefined;
  if (g === undefined || g.case === undefined) {
    errors.push(compileError("ValueRequired", node.id, "Value required [gate_node.condition]."));
    return;
  }
  if (g.case === "sleep") return;
  const id = g.value.signalId;
  const field = `gate_node.${g.case}.signal_id`;
  let problem: string | undefined;
  if (id === "") errors.push(compileError("ValueRequired", node.id, `Value required [${field}].`));
  else if ([...id].length > MAX_SIGNAL_ID_CHARS) problem = `cannot exceed ${MAX_SIGNAL_ID_CHARS} characters`;
  else if (/\p{Cc}/u.test(id)) problem = "cannot contain control characters";
  if (problem !== undefined) {
    const shown = id.length > 64 ? `${id.slice(0, 64)}…` : id;
    errors.push(
      compileError(
        "InvalidValue",
        node.id,
        `Invalid value [${shown}] for [${field}]: a signal id ${problem}.`,
      ),
    );
  }
}

function gateInterface(node: Node): NodeInterface {
  const g = node.target.case === "gateNode" ? node.target.value.condition : undefined;
  if (g?.case === "signal") {
    const out = new Map<string, LiteralType>();
    if (g.value.outputVariableName !== "") out.set(g.value.outputVariableName, g.value.type ?? anyType());
    return { inputs: new Map(), outputs: out };
  }
  if (g?.case === "approve") return { inputs: new Map(), outputs: new Map(), openInputs: true };
  return { inputs: new Map(), outputs: new Map() };
}

/** Scope of one workflow template being compiled: output types of its nodes so far. */
export class Scope {
  readonly outputs = new Map<string, ReadonlyMap<string, LiteralType>>();
  constructor(
    readonly deps: CompileDeps,
    readonly errors: CompileError[],
  ) {}
  lookup = (nodeId: string) => this.outputs.get(nodeId);
}
