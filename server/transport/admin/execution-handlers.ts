// Executions, their events, and node and task executions.
import { create } from "@bufbuild/protobuf";
import type { ServiceImpl } from "@connectrpc/connect";
import {
  NodeExecutionEventResponseSchema,
  TaskExecutionEventResponseSchema,
  WorkflowExecutionEventResponseSchema,
} from "../../../gen/flyteidl/admin/event_pb.js";
import {
  ExecutionCreateResponseSchema,
  ExecutionTerminateResponseSchema,
  ExecutionUpdateResponseSchema,
} from "../../../gen/flyteidl/admin/execution_pb.js";
import type { AdminService } from "../../../gen/flyteidl/service/admin_pb.js";
import { principalName } from "../../auth/principal.js";
import type { Managers } from "../../managers/managers.js";

export function executionHandlers(m: Managers): Partial<ServiceImpl<typeof AdminService>> {
  const x = m.executions;
  const n = m.nodeExecutions;
  return {
    createExecution: async (req, ctx) => {
      const principal = principalName(ctx);
      const id = await m.launcher.createExecution(req, principal === "" ? {} : { principal });
      return create(ExecutionCreateResponseSchema, { id });
    },
    relaunchExecution: async (req, ctx) =>
      create(ExecutionCreateResponseSchema, { id: await x.relaunchExecution(req, principalName(ctx)) }),
    recoverExecution: async (req, ctx) =>
      create(ExecutionCreateResponseSchema, { id: await x.recoverExecution(req, principalName(ctx)) }),
    getExecution: (req) => x.getExecution(req),
    listExecutions: (req) => x.listExecutions(req),
    getExecutionData: (req) => x.getExecutionData(req),
    getExecutionMetrics: (req) => m.metrics.getExecutionMetrics(req),
    async updateExecution(req) {
      await x.updateExecution(req);
      return create(ExecutionUpdateResponseSchema);
    },
    async terminateExecution(req, ctx) {
      await x.terminateExecution(req, principalName(ctx));
      return create(ExecutionTerminateResponseSchema);
    },
    async createWorkflowEvent(req) {
      await m.events.createWorkflowEvent(req);
      return create(WorkflowExecutionEventResponseSchema);
    },
    async createNodeEvent(req) {
      await m.events.createNodeEvent(req);
      return create(NodeExecutionEventResponseSchema);
    },
    async createTaskEvent(req) {
      await m.events.createTaskEvent(req);
      return create(TaskExecutionEventResponseSchema);
    },
    getNodeExecution: (req) => n.getNodeExecution(req),
    listNodeExecutions: (req) => n.listNodeExecutions(req),
    listNodeExecutionsForTask: (req) => n.listNodeExecutionsForTask(req),
    getNodeExecutionData: (req) => n.getNodeExecutionData(req),
    getDynamicNodeWorkflow: (req) => n.getDynamicNodeWorkflow(req),
    getTaskExecution: (req) => n.getTaskExecution(req),
    listTaskExecutions: (req) => n.listTaskExecutions(req),
    getTaskExecutionData: (req) => n.getTaskExecutionData(req),
  };
}
