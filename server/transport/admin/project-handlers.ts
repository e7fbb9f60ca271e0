// Projects and domains.
import { create } from "@bufbuild/protobuf";
import type { ServiceImpl } from "@connectrpc/connect";
import {
  GetDomainsResponseSchema,
  ProjectRegisterResponseSchema,
  ProjectUpdateResponseSchema,
} from "../../../gen/flyteidl/admin/project_pb.js";
import type { AdminService } from "../../../gen/flyteidl/service/admin_pb.js";
import type { ProjectManager } from "../../managers/project-manager.js";

export function projectHandlers(projects: ProjectManager): Partial<ServiceImpl<typeof AdminService>> {
  return {
    async registerProject(req) {
      await projects.registerProject(req);
      return create(ProjectRegisterResponseSchema);
    },
    async updateProject(req) {
      await projects.updateProject(req);
      return create(ProjectUpdateResponseSchema);
    },
    getProject: (req) => projects.getProject(req),
    listProjects: (req) => projects.listProjects(req),
    getDomains: () => create(GetDomainsResponseSchema, { domains: [...projects.getDomains()] }),
  };
}
