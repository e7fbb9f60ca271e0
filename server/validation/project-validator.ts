// Project rules: id is a DNS label, name/description lengths, k8s labels, no per-project domains.
import type { Project } from "../../gen/flyteidl/admin/project_pb.js";
import { invalidArgument, missingField } from "../errors.js";
import { dns1123LabelErrors, goList } from "./k8s-names.js";
import { validateLabels } from "./labels-validator.js";

export function validateProjectId(id: string): void {
  if (id === "") throw missingField("project_id");
  const errs = dns1123LabelErrors(id);
  if (errs.length > 0) throw invalidArgument(`invalid project id [${id}]: ${goList(errs)}`);
}

/** Register requires a name; update allows an empty one (meaning "keep"). */
export function validateProject(project: Project, opts: { requireName: boolean }): void {
  validateProjectId(project.id);
  if (opts.requireName && project.name === "") throw missingField("project_name");
  if ([...project.name].length > 64) throw invalidArgument("project_name cannot exceed 64 characters");
  if ([...project.description].length > 300)
    throw invalidArgument("project_description cannot exceed 300 characters");
  validateLabels(project.labels?.values ?? {});
  if (project.domains.length > 0) {
    throw invalidArgument(
      "Domains are currently only set system wide. Please retry without domains included in your request.",
    );
  }
}
