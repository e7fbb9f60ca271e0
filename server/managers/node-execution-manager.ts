// Reading node and task executions and their data.
import { create, fromBinary } from "@bufbuild/protobuf";
import type { Knex } from "knex";
import {
  type DynamicNodeWorkflowResponse,
  DynamicNodeWorkflowResponseSchema,
  type NodeExecution,
  NodeExecutionClosureSchema,
  type NodeExecutionForTaskListRequest,
  type NodeExecutionGetDataResponse,
  NodeExecutionGetDataResponseSchema,
  type NodeExecutionList,
  type NodeExecutionListRequest,
  NodeExecutionListSchema,
} from "../../gen/flyteidl/admin/node_execution_pb.js";
import {
  type TaskExecution,
  TaskExecutionClosureSchema,
  type TaskExecutionGetDataResponse,
  TaskExecutionGetDataResponseSchema,
  type TaskExecutionList,
  type TaskExecutionListRequest,
  TaskExecutionListSchema,
} from "../../gen/flyteidl/admin/task_execution_pb.js";
import {
  type CompiledWorkflowClosure,
  CompiledWorkflowClosureSchema,
} from "../../gen/flyteidl/core/compiler_pb.js";
import {
  type NodeExecutionIdentifier,
  NodeExecutionIdentifierSchema,
  type TaskExecutionIdentifier,
  TaskExecutionIdentifierSchema,
} from "../../gen/flyteidl/core/identifier_pb.js";
import { invalidField, missingField, notFound, unavailable } from "../errors.js";
import type { DataStore } from "../repositories/data-store.js";
import type { ExecutionRow } from "../repositories/execution-repo.js";
import * as nodes from "../repositories/node-execution-repo.js";
import * as tasks from "../repositories/task-execution-repo.js";
import { modelText } from "../transformers/model-text.js";
import { toNodeExecution, toTaskExecution } from "../transformers/node-execution.js";
import type { ExecutionManager } from "./execution-manager.js";
import { type InlineLimits, literalData } from "./literal-data.js";

const flyteUrl = (exec: ExecutionRow, ...parts: string[]) =>
  `flyte://v1/${[exec.execution_project, exec.execution_domain, exec.execution_name, ...parts].join("/")}`;

export class NodeExecutionManager {
  constructor(
    private readonly db: Knex,
    private readonly data: DataStore,
    private readonly executions: ExecutionManager,
    private readonly limits: InlineLimits,
  ) {}

  private async loadNode(
    id: NodeExecutionIdentifier | undefined,
  ): Promise<{ exec: ExecutionRow; row: nodes.NodeExecutionRow }> {
    if (id === undefined) throw missingField("id");
    if (id.nodeId === "") throw missingField("node_id");
    const exec = await this.executions.load(id.executionId);
    const row = await nodes.getNodeExecution(this.db, exec.id, id.nodeId);
    if (row === undefined)
      throw notFound(
        `missing entity of type node execution with identifier ${modelText(NodeExecutionIdentifierSchema, id)}`,
      );
    return { exec, row };
  }

  private async loadTask(id: TaskExecutionIdentifier | undefined) {
    if (id === undefined) throw missingField("id");
    if (id.taskId === undefined) throw missingField("task_id");
    const { exec, row: node } = await this.loadNode(id.nodeExecutionId);
    const t = id.taskId;
    const row = await tasks.getTaskExecution(this.db, {
      node_execution_id: node.id,
      project: t.project,
      domain: t.domain,
      name: t.name,
      version: t.version,
      retry_attempt: id.retryAttempt,
    });
    if (row === undefined)
      throw notFound(
        `missing entity of type task execution with identifier ${modelText(TaskExecutionIdentifierSchema, id)}`,
      );
    return { exec, node, row };
  }

  async getNodeExecution(req: { id?: NodeExecutionIdentifier | undefined }): Promise<NodeExecution> {
    const { exec, row } = await this.loadNode(req.id);
    return toNodeExecution(exec, row);
  }

  async listNodeExecutions(req: NodeExecutionListRequest): Promise<NodeExecutionList> {
    if (req.workflowExecutionId === undefined) throw missingField("execution_id");
    if (req.limit === 0) throw invalidField("limit");
    const exec = await this.executions.load(req.workflowExecutionId);
    let parent: { parentId?: string } = {};
    if (req.uniqueParentId !== "") {
      const p = await nodes.getNodeExecution(this.db, exec.id, req.uniqueParentId);
      if (p === undefined) throw notFound("entry not found");
      parent = { parentId: p.id };
    }
    const page = await nodes.listNodeExecutions(this.db, exec.id, parent, req);
    return create(NodeExecutionListSchema, {
      nodeExecutions: page.rows.map((r) => toNodeExecution(exec, r)),
      token: page.token,
    });
  }

  async listNodeExecutionsForTask(req: NodeExecutionForTaskListRequest): Promise<NodeExecutionList> {
    if (req.limit === 0) throw invalidField("limit");
    const { exec, row } = await this.loadTask(req.taskExecutionId);
    const page = await nodes.listNodeExecutions(this.db, exec.id, { parentTaskExecutionId: row.id }, req);
    return create(NodeExecutionListSchema, {
      nodeExecutions: page.rows.map((r) => toNodeExecution(exec, r)),
      token: page.token,
    });
  }

  async getNodeExecutionData(req: {
    id?: NodeExecutionIdentifier | undefined;
  }): Promise<NodeExecutionGetDataResponse> {
    const { exec, row } = await this.loadNode(req.id);
    const closure = fromBinary(NodeExecutionClosureSchema, row.closure);
    const outputsUri = closure.outputResult.case === "outputUri" ? closure.outputResult.value : "";
    const inputs = await literalData(this.db, this.data, row.input_uri, this.limits);
    const outputs = await literalData(this.db, this.data, outputsUri, this.limits);
    const compiled = await this.dynamicWorkflow(row);
    return create(NodeExecutionGetDataResponseSchema, {
      ...(compiled === undefined
        ? {}
        : {
            dynamicWorkflow: {
              id: compiled.primary?.template?.id,
              compiledWorkflow: compiled,
              dynamicJobSpecUri: closure.dynamicJobSpecUri,
            },
          }),
      inputs: inputs.blob,
      outputs: outputs.blob,
      fullInputs: inputs.full,
      fullOutputs: outputs.full,
      flyteUrls: {
        inputs: flyteUrl(exec, row.node_id, "i"),
        outputs: flyteUrl(exec, row.node_id, "o"),
        deck: closure.deckUri === "" ? "" : flyteUrl(exec, row.node_id, "d"),
      },
    });
  }

  /** The workflow a dynamic node's task produced, as the engine compiled it (FlyteAdmin's remote closure copy). */
  async getDynamicNodeWorkflow(req: {
    id?: NodeExecutionIdentifier | undefined;
  }): Promise<DynamicNodeWorkflowResponse> {
    const { row } = await this.loadNode(req.id);
    const compiled = await this.dynamicWorkflow(row);
    if (compiled === undefined) throw notFound("node does not contain dynamic workflow");
    return create(DynamicNodeWorkflowResponseSchema, { compiledWorkflow: compiled });
  }

  private async dynamicWorkflow(row: nodes.NodeExecutionRow): Promise<CompiledWorkflowClosure | undefined> {
    if (row.dynamic_workflow_uri === "") return undefined;
    const bytes = await this.data.get(this.db, row.dynamic_workflow_uri);
    if (bytes === undefined)
      throw unavailable(`the dynamic workflow of node [${row.node_id}] cannot be read from the blob store`);
    return fromBinary(CompiledWorkflowClosureSchema, bytes);
  }

  async getTaskExecution(req: { id?: TaskExecutionIdentifier | undefined }): Promise<TaskExecution> {
    const { exec, node, row } = await this.loadTask(req.id);
    return toTaskExecution(exec, node.node_id, row);
  }

  async listTaskExecutions(req: TaskExecutionListRequest): Promise<TaskExecutionList> {
    if (req.limit === 0) throw invalidField("limit");
    const { exec, row: node } = await this.loadNode(req.nodeExecutionId);
    const page = await tasks.listTaskExecutions(this.db, node.id, req);
    return create(TaskExecutionListSchema, {
      taskExecutions: page.rows.map((r) => toTaskExecution(exec, node.node_id, r)),
      token: page.token,
    });
  }

  async getTaskExecutionData(req: {
    id?: TaskExecutionIdentifier | undefined;
  }): Promise<TaskExecutionGetDataResponse> {
    const { exec, node, row } = await this.loadTask(req.id);
    const closure = fromBinary(TaskExecutionClosureSchema, row.closure);
    const outputsUri = closure.outputResult.case === "outputUri" ? closure.outputResult.value : "";
    const inputs = await literalData(this.db, this.data, node.input_uri, this.limits);
    const outputs = await literalData(this.db, this.data, outputsUri, this.limits);
    return create(TaskExecutionGetDataResponseSchema, {
      inputs: inputs.blob,
      outputs: outputs.blob,
      fullInputs: inputs.full,
      fullOutputs: outputs.full,
      flyteUrls: {
        inputs: flyteUrl(exec, node.node_id, String(row.retry_attempt), "i"),
        outputs: flyteUrl(exec, node.node_id, String(row.retry_attempt), "o"),
        deck: "",
      },
    });
  }
}
