// Matchable attributes: project, project+domain and workflow level.
import { create } from "@bufbuild/protobuf";
import type { ServiceImpl } from "@connectrpc/connect";
import {
  ProjectAttributesDeleteResponseSchema,
  ProjectAttributesGetResponseSchema,
  ProjectAttributesUpdateResponseSchema,
} from "../../../gen/flyteidl/admin/project_attributes_pb.js";
import {
  ProjectDomainAttributesDeleteResponseSchema,
  ProjectDomainAttributesGetResponseSchema,
  ProjectDomainAttributesUpdateResponseSchema,
} from "../../../gen/flyteidl/admin/project_domain_attributes_pb.js";
import {
  WorkflowAttributesDeleteResponseSchema,
  WorkflowAttributesGetResponseSchema,
  WorkflowAttributesUpdateResponseSchema,
} from "../../../gen/flyteidl/admin/workflow_attributes_pb.js";
import type { AdminService } from "../../../gen/flyteidl/service/admin_pb.js";
import { missingField } from "../../errors.js";
import type { AttributesManager } from "../../managers/attributes-manager.js";

export function attributesHandlers(m: AttributesManager): Partial<ServiceImpl<typeof AdminService>> {
  return {
    async updateProjectAttributes(req) {
      if (req.attributes === undefined) throw missingField("attributes");
      await m.update(req.attributes, "project", req.attributes.matchingAttributes);
      return create(ProjectAttributesUpdateResponseSchema);
    },
    async getProjectAttributes(req) {
      const matchingAttributes = await m.get(req, "project", req.resourceType);
      return create(ProjectAttributesGetResponseSchema, {
        attributes: { project: req.project, matchingAttributes },
      });
    },
    async deleteProjectAttributes(req) {
      await m.delete(req, "project", req.resourceType);
      return create(ProjectAttributesDeleteResponseSchema);
    },
    async updateProjectDomainAttributes(req) {
      if (req.attributes === undefined) throw missingField("attributes");
      await m.update(req.attributes, "domain", req.attributes.matchingAttributes);
      return create(ProjectDomainAttributesUpdateResponseSchema);
    },
    async getProjectDomainAttributes(req) {
      const matchingAttributes = await m.get(req, "domain", req.resourceType);
      return create(ProjectDomainAttributesGetResponseSchema, {
        attributes: { project: req.project, domain: req.domain, matchingAttributes },
      });
    },
    async deleteProjectDomainAttributes(req) {
      await m.delete(req, "domain", req.resourceType);
      return create(ProjectDomainAttributesDeleteResponseSchema);
    },
    async updateWorkflowAttributes(req) {
      if (req.attributes === undefined) throw missingField("attributes");
      await m.update(req.attributes, "workflow", req.attributes.matchingAttributes);
      return create(WorkflowAttributesUpdateResponseSchema);
    },
    async getWorkflowAttributes(req) {
      const matchingAttributes = await m.get(req, "workflow", req.resourceType);
      return create(WorkflowAttributesGetResponseSchema, {
        attributes: { project: req.project, domain: req.domain, workflow: req.workflow, matchingAttributes },
      });
    },
    async deleteWorkflowAttributes(req) {
      await m.delete(req, "workflow", req.resourceType);
      return create(WorkflowAttributesDeleteResponseSchema);
    },
    listMatchableAttributes: (req) => m.list(req),
  };
}
