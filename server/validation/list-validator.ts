// The checks every list request shares: a project and domain, and a positive limit.
import { invalidField, missingField } from "../errors.js";

export interface ListScope {
  readonly project: string;
  readonly domain: string;
  readonly name?: string;
}

export function validateListScope(
  id: { project: string; domain: string; name?: string } | undefined,
  limit: number,
): ListScope {
  if (id === undefined || id.project === "") throw missingField("project");
  if (id.domain === "") throw missingField("domain");
  if (limit === 0) throw invalidField("limit");
  return id.name === undefined
    ? { project: id.project, domain: id.domain }
    : { project: id.project, domain: id.domain, name: id.name };
}
