// Sub-workflows that contain themselves: a workflow node that refers (directly, or through other sub-workflows,
// branch cases, array sub-nodes or failure nodes) to the sub-workflow it sits in would nest without end at run time.
import type { WorkflowTemplate } from "../../gen/flyteidl/core/workflow_pb.js";
import { type CompileError, compileError } from "./compile-errors.js";
import { idKey } from "./interfaces.js";
import { walkNodes } from "./requirements.js";

interface Reference {
  /** The node that holds the reference. */
  readonly nodeId: string;
  readonly target: string;
}

/** The sub-workflows each template refers to, by key, with the nodes that refer to them. */
function referencesOf(template: WorkflowTemplate): Reference[] {
  const roots = [...template.nodes, ...(template.failureNode === undefined ? [] : [template.failureNode])];
  const out: Reference[] = [];
  for (const root of roots) {
    for (const n of walkNodes(root)) {
      const t = n.target;
      if (t.case === "workflowNode" && t.value.reference.case === "subWorkflowRef")
        out.push({ nodeId: n.id, target: idKey(t.value.reference.value) });
    }
  }
  return out;
}

/**
 * Reports every reference cycle among the sub-workflows as CycleDetected, at the node that closes the cycle. The
 * primary workflow takes part when it is also listed as a sub-workflow (that is how a workflow refers to itself).
 */
export function detectSubWorkflowCycles(
  subWorkflows: readonly WorkflowTemplate[],
  errors: CompileError[],
): void {
  const refs = new Map<string, Reference[]>();
  for (const s of subWorkflows) {
    const key = idKey(s.id);
    refs.set(key, [...(refs.get(key) ?? []), ...referencesOf(s)]);
  }
  const state = new Map<string, "open" | "done">();
  const path: string[] = [];
  const visit = (key: string): void => {
    state.set(key, "open");
    path.push(key);
    for (const r of refs.get(key) ?? []) {
      if (!refs.has(r.target)) continue; // an unknown reference is WorkflowReferenceNotFound
      const seen = state.get(r.target);
      if (seen === "open") {
        const cycle = [...path.slice(path.indexOf(r.target)), r.target];
        errors.push(
          compileError(
            "CycleDetected",
            r.nodeId,
            `A cycle has been detected among sub-workflows [${cycle.join(" -> ")}]: a workflow cannot contain itself.`,
          ),
        );
      } else if (seen === undefined) visit(r.target);
    }
    path.pop();
    state.set(key, "done");
  };
  for (const key of refs.keys()) if (!state.has(key)) visit(key);
}
