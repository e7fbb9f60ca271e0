// Workflows.
import { create } from "@bufbuild/protobuf";
import type { ServiceImpl } from "@connectrpc/connect";
import { WorkflowCreateResponseSchema } from "../../../gen/flyteidl/admin/workflow_pb.js";
import type { AdminService } from "../../../gen/flyteidl/service/admin_pb.js";
import type { WorkflowManager } from "../../managers/workflow-manager.js";

export function workflowHandlers(workflows: WorkflowManager): Partial<ServiceImpl<typeof AdminService>> {
  return {
    async createWorkflow(req) {
      await workflows.createWorkflow(req);
      return create(WorkflowCreateResponseSchema);
    },
    getWorkflow: (req) => workflows.getWorkflow(req),
    listWorkflows: (req) => workflows.listWorkflows(req),
    listWorkflowIds: (req) => workflows.listWorkflowIds(req),
  };
}
