// Reading and steering executions: get, list, archive, data, terminate, relaunch, recover.
import { create } from "@bufbuild/protobuf";
import { timestampNow } from "@bufbuild/protobuf/wkt";
import type { Knex } from "knex";
import type { ResourceListRequest } from "../../gen/flyteidl/admin/common_pb.js";
import { EventFailureReasonSchema } from "../../gen/flyteidl/admin/event_pb.js";
import {
  type Execution,
  ExecutionCreateRequestSchema,
  type ExecutionList,
  ExecutionMetadata_ExecutionMode,
  type ExecutionRecoverRequest,
  type ExecutionRelaunchRequest,
  type ExecutionTerminateRequest,
  type ExecutionUpdateRequest,
  type WorkflowExecutionGetDataResponse,
  WorkflowExecutionGetDataResponseSchema,
  type WorkflowExecutionGetRequest,
} from "../../gen/flyteidl/admin/execution_pb.js";
import { WorkflowExecution_Phase } from "../../gen/flyteidl/core/execution_pb.js";
import {
  type WorkflowExecutionIdentifier,
  WorkflowExecutionIdentifierSchema,
} from "../../gen/flyteidl/core/identifier_pb.js";
import { failedPrecondition, missingField, notFound } from "../errors.js";
import type { DataStore } from "../repositories/data-store.js";
import * as repo from "../repositories/execution-repo.js";
import { enqueueEvaluation } from "../repositories/work-repo.js";
import {
  decodeExecClosure,
  decodeExecSpec,
  encodeExecClosure,
  TERMINAL_WORKFLOW_PHASES,
  workflowPhase,
} from "../transformers/execution.js";
import { decodeLiteralMap } from "../transformers/literals.js";
import { modelText } from "../transformers/model-text.js";
import { lazyExecution } from "../transformers/wire-answers.js";
import { validateListScope } from "../validation/list-validator.js";
import type { ExecutionLauncher } from "./execution-launcher.js";
import { ExecutionReads } from "./execution-reads.js";
import { ExecutionSummaries } from "./execution-summaries.js";
import { type InlineLimits, literalData } from "./literal-data.js";
import { notifyWatchers } from "./workflow-event-recorder.js";

export function validateExecutionId(id: WorkflowExecutionIdentifier | undefined): repo.ExecutionKey {
  if (id === undefined) throw missingField("id");
  if (id.project === "") throw missingField("project");
  if (id.domain === "") throw missingField("domain");
  if (id.name === "") throw missingField("name");
  return { project: id.project, domain: id.domain, name: id.name };
}

export const executionNotFound = (id: repo.ExecutionKey) =>
  notFound(
    `missing entity of type execution with identifier ${modelText(WorkflowExecutionIdentifierSchema, create(WorkflowExecutionIdentifierSchema, id))}`,
  );

export class ExecutionManager {
  private readonly reads: ExecutionReads;
  private readonly summaries: ExecutionSummaries;

  constructor(
    private readonly db: Knex,
    private readonly data: DataStore,
    private readonly launcher: ExecutionLauncher,
    private readonly limits: InlineLimits,
  ) {
    this.reads = new ExecutionReads(db);
    this.summaries = new ExecutionSummaries(db);
  }

  async load(id: WorkflowExecutionIdentifier | undefined): Promise<repo.ExecutionRow> {
    const key = validateExecutionId(id);
    const row = await this.reads.read(key);
    if (row === undefined) throw executionNotFound(key);
    return row;
  }

  async getExecution(req: WorkflowExecutionGetRequest): Promise<Execution> {
    return lazyExecution(await this.load(req.id));
  }

  async listExecutions(req: ResourceListRequest): Promise<ExecutionList> {
    const scope = validateListScope(req.id, req.limit);
    return this.summaries.list(scope, req);
  }

  async updateExecution(req: ExecutionUpdateRequest): Promise<void> {
    const row = await this.load(req.id);
    const closure = decodeExecClosure(row);
    closure.stateChangeDetails = {
      $typeName: "flyteidl.admin.ExecutionStateChangeDetails",
      state: req.state,
      occurredAt: timestampNow(),
      principal: "",
    };
    await repo.updateExecution(this.db, row.id, { state: req.state, closure: encodeExecClosure(closure) });
  }

  async getExecutionData(req: {
    id?: WorkflowExecutionIdentifier | undefined;
  }): Promise<WorkflowExecutionGetDataResponse> {
    const row = await this.load(req.id);
    const closure = decodeExecClosure(row);
    const out = closure.outputResult;
    const inputs = await literalData(this.db, this.data, row.inputs_uri, this.limits);
    const outputs = await literalData(
      this.db,
      this.data,
      out.case === "outputs" && out.value.data.case === "uri" ? out.value.data.value : "",
      this.limits,
    );
    return create(WorkflowExecutionGetDataResponseSchema, {
      inputs: inputs.blob,
      outputs: outputs.blob,
      fullInputs: inputs.full,
      fullOutputs: out.case === "outputData" ? out.value : outputs.full,
    });
  }

  async terminateExecution(req: ExecutionTerminateRequest, principal = ""): Promise<void> {
    const row = await this.load(req.id);
    await this.db.transaction(async (trx) => {
      const current = await repo.getExecutionById(trx, row.id, true);
      if (current === undefined) throw executionNotFound(validateExecutionId(req.id));
      const phase = workflowPhase(current.phase);
      if (TERMINAL_WORKFLOW_PHASES.has(phase)) {
        throw failedPrecondition("Cannot abort an already terminated workflow execution", [
          {
            desc: EventFailureReasonSchema,
            value: create(EventFailureReasonSchema, {
              reason: {
                case: "alreadyInTerminalState",
                value: { currentPhase: WorkflowExecution_Phase[phase] },
              },
            }),
          },
        ]);
      }
      const closure = decodeExecClosure(current);
      closure.outputResult = {
        case: "abortMetadata",
        value: { $typeName: "flyteidl.admin.AbortMetadata", cause: req.cause, principal },
      };
      await repo.updateExecution(trx, current.id, {
        phase: "ABORTING",
        abort_cause: req.cause,
        closure: encodeExecClosure(closure),
        execution_updated_at: new Date(),
      });
      await enqueueEvaluation(trx, current.id);
      await notifyWatchers(trx, current.id);
    });
  }

  async relaunchExecution(
    req: ExecutionRelaunchRequest,
    principal = "",
  ): Promise<WorkflowExecutionIdentifier> {
    return this.rerun(
      req.id,
      req.name,
      ExecutionMetadata_ExecutionMode.RELAUNCH,
      req.overwriteCache,
      principal,
    );
  }

  async recoverExecution(req: ExecutionRecoverRequest, principal = ""): Promise<WorkflowExecutionIdentifier> {
    return this.rerun(req.id, req.name, ExecutionMetadata_ExecutionMode.RECOVERED, undefined, principal);
  }

  private async rerun(
    id: WorkflowExecutionIdentifier | undefined,
    name: string,
    mode: ExecutionMetadata_ExecutionMode,
    overwriteCache: boolean | undefined,
    principal: string,
  ): Promise<WorkflowExecutionIdentifier> {
    const original = await this.load(id);
    const spec = decodeExecSpec(original);
    const userInputs =
      original.user_inputs_uri === "" ? undefined : await this.data.get(this.db, original.user_inputs_uri);
    spec.metadata = {
      ...(spec.metadata ?? {
        $typeName: "flyteidl.admin.ExecutionMetadata",
        principal: "",
        nesting: 0,
        artifactIds: [],
      }),
      mode,
      referenceExecution: create(WorkflowExecutionIdentifierSchema, validateExecutionId(id)),
    } as typeof spec.metadata;
    if (overwriteCache !== undefined) spec.overwriteCache = overwriteCache;
    const req = create(ExecutionCreateRequestSchema, {
      project: original.execution_project,
      domain: original.execution_domain,
      name,
      spec,
      inputs: decodeLiteralMap(userInputs),
    });
    return this.launcher.createExecution(req, {
      sourceExecutionId: original.id,
      ...(principal === "" ? {} : { principal }),
    });
  }
}
