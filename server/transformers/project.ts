// Project rows <-> admin.Project messages.
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { LabelsSchema } from "../../gen/flyteidl/admin/common_pb.js";
import {
  type Domain,
  DomainSchema,
  type Project,
  ProjectSchema,
} from "../../gen/flyteidl/admin/project_pb.js";
import type { DomainConfig } from "../config.js";
import type { ProjectRow } from "../repositories/project-repo.js";

export function projectToRow(p: Project): Omit<ProjectRow, "created_at" | "updated_at"> {
  const labels = p.labels !== undefined && Object.keys(p.labels.values).length > 0 ? p.labels : undefined;
  return {
    identifier: p.id,
    name: p.name,
    description: p.description,
    labels: labels === undefined ? null : Buffer.from(toBinary(LabelsSchema, labels)),
    state: p.state,
  };
}

export function domainsToMessages(domains: readonly DomainConfig[]): Domain[] {
  return domains.map((d) => create(DomainSchema, { id: d.id, name: d.name }));
}

export function rowToProject(row: ProjectRow, domains: readonly Domain[]): Project {
  return create(ProjectSchema, {
    id: row.identifier,
    name: row.name,
    description: row.description,
    domains: [...domains],
    ...(row.labels === null ? {} : { labels: fromBinary(LabelsSchema, row.labels) }),
    state: row.state,
  });
}
