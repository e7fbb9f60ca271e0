// GetExecutionMetrics: a span tree built from recorded timings (execution → nodes → task attempts).
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { Knex } from "knex";
import {
  type WorkflowExecutionGetMetricsRequest,
  type WorkflowExecutionGetMetricsResponse,
  WorkflowExecutionGetMetricsResponseSchema,
} from "../../gen/flyteidl/admin/execution_pb.js";
import { ResourceType } from "../../gen/flyteidl/core/identifier_pb.js";
import { type Span, SpanSchema } from "../../gen/flyteidl/core/metrics_pb.js";
import { nodeExecutionsOf } from "../repositories/node-execution-repo.js";
import type { TaskExecutionRow } from "../repositories/task-execution-repo.js";
import { executionId } from "../transformers/execution.js";
import type { ExecutionManager } from "./execution-manager.js";

const end = (start: Date | null, durationSeconds: number, fallback: Date) =>
  start !== null && durationSeconds > 0 ? new Date(start.getTime() + durationSeconds * 1000) : fallback;

export class MetricsManager {
  constructor(
    private readonly db: Knex,
    private readonly executions: ExecutionManager,
  ) {}

  async getExecutionMetrics(
    req: WorkflowExecutionGetMetricsRequest,
  ): Promise<WorkflowExecutionGetMetricsResponse> {
    const exec = await this.executions.load(req.id);
    const depth = req.depth > 0 ? req.depth : 10;
    const wfId = executionId(exec);
    const nodes = depth > 1 ? await nodeExecutionsOf(this.db, exec.id) : [];
    const tasks = (
      depth > 2
        ? await this.db("task_executions as te")
            .join("node_executions as ne", "ne.id", "te.node_execution_id")
            .where("ne.execution_id", exec.id)
            .select("te.*")
            .orderBy("te.id")
        : []
    ) as TaskExecutionRow[];
    const nodeSpans: Span[] = nodes.map((n) => {
      const started = n.started_at ?? n.node_execution_created_at;
      const taskSpans = tasks
        .filter((t) => t.node_execution_id === n.id)
        .map((t) =>
          create(SpanSchema, {
            startTime: timestampFromDate(t.started_at ?? t.task_execution_created_at),
            endTime: timestampFromDate(end(t.started_at, t.duration, t.task_execution_updated_at)),
            id: {
              case: "taskId",
              value: {
                taskId: {
                  resourceType: ResourceType.TASK,
                  project: t.project,
                  domain: t.domain,
                  name: t.name,
                  version: t.version,
                },
                nodeExecutionId: { nodeId: n.node_id, executionId: wfId },
                retryAttempt: t.retry_attempt,
              },
            },
            spans: [
              create(SpanSchema, {
                startTime: timestampFromDate(t.started_at ?? t.task_execution_created_at),
                endTime: timestampFromDate(end(t.started_at, t.duration, t.task_execution_updated_at)),
                id: { case: "operationId", value: "TASK_RUNTIME" },
              }),
            ],
          }),
        );
      return create(SpanSchema, {
        startTime: timestampFromDate(started),
        endTime: timestampFromDate(end(n.started_at, n.duration, n.node_execution_updated_at)),
        id: { case: "nodeId", value: { nodeId: n.node_id, executionId: wfId } },
        spans: [
          create(SpanSchema, {
            startTime: timestampFromDate(n.node_execution_created_at),
            endTime: timestampFromDate(started),
            id: { case: "operationId", value: "NODE_SETUP" },
          }),
          ...taskSpans,
        ],
      });
    });
    const span = create(SpanSchema, {
      startTime: timestampFromDate(exec.execution_created_at),
      endTime: timestampFromDate(end(exec.started_at, exec.duration, exec.execution_updated_at)),
      id: { case: "workflowId", value: wfId },
      spans: nodeSpans,
    });
    return create(WorkflowExecutionGetMetricsResponseSchema, { span });
  }
}
