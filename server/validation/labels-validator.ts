// k8s label rules for project, launch-plan and execution labels.
import { invalidArgument } from "../errors.js";
import { goList, labelValueErrors, qualifiedNameErrors } from "./k8s-names.js";

export function validateLabels(values: Record<string, string>, maxEntries = 16): void {
  const entries = Object.entries(values);
  if (entries.length > maxEntries) throw invalidArgument(`labels map cannot exceed ${maxEntries} entries`);
  for (const [k, v] of entries) {
    const keyErrs = qualifiedNameErrors(k);
    if (keyErrs.length > 0) throw invalidArgument(`invalid label key [${k}]: ${goList(keyErrs)}`);
    const valueErrs = labelValueErrors(v);
    if (valueErrs.length > 0) throw invalidArgument(`invalid label value [${v}]: ${goList(valueErrs)}`);
  }
}
