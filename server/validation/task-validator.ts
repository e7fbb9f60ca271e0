// CreateTask's template checks, in Flyte's order, before the task compiler runs.
import {
  type Resources_ResourceEntry,
  Resources_ResourceName,
  type TaskTemplate,
} from "../../gen/flyteidl/core/tasks_pb.js";
import { invalidArgument, missingField } from "../errors.js";
import { parseQuantity } from "./k8s-quantity.js";

function resourceName(n: Resources_ResourceName): string {
  return (Resources_ResourceName[n] ?? String(n)).toLowerCase();
}

function byName(entries: readonly Resources_ResourceEntry[], kind: string): Map<number, number> {
  const out = new Map<number, number>();
  for (const e of entries) {
    if (out.has(e.name))
      throw invalidArgument(`resource ${resourceName(e.name)} is specified more than once in ${kind}`);
    const q = parseQuantity(e.value);
    if (q === undefined) {
      throw invalidArgument(`invalid quantity [${e.value}] for ${kind} resource ${resourceName(e.name)}`);
    }
    out.set(e.name, q);
  }
  return out;
}

function validateResources(
  requests: readonly Resources_ResourceEntry[],
  limits: readonly Resources_ResourceEntry[],
): void {
  const req = byName(requests, "requests");
  const lim = byName(limits, "limits");
  for (const [name, value] of req) {
    const limit = lim.get(name);
    if (limit !== undefined && value > limit) {
      const text = (xs: readonly Resources_ResourceEntry[]) => xs.find((x) => x.name === name)?.value ?? "";
      throw invalidArgument(
        `requested ${resourceName(name)} [${text(requests)}] is greater than its limit [${text(limits)}]`,
      );
    }
  }
}

export function validateTaskTemplate(t: TaskTemplate): void {
  if (t.type === "") throw missingField("type");
  if (t.metadata === undefined) throw missingField("metadata");
  if (t.metadata.runtime !== undefined && t.metadata.runtime.version === "")
    throw missingField("runtime version");
  if (t.interface === undefined) throw missingField("typed interface");
  if (t.target.case === "container") {
    if (t.target.value.image === "") throw missingField("image");
    validateResources(t.target.value.resources?.requests ?? [], t.target.value.resources?.limits ?? []);
  }
  if (t.target.case === "k8sPod" && t.target.value.podSpec === undefined) throw missingField("pod_spec");
}
