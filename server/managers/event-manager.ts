// The Create{Workflow,Node,Task}Event rpcs: validate, lock the execution, apply through the recorders the engine
// itself uses. They are for an external engine: while Petrel's engine runs executions, events from outside are
// refused (they would race its own phase changes).
import type { Knex } from "knex";
import type {
  NodeExecutionEventRequest,
  TaskExecutionEventRequest,
  WorkflowExecutionEventRequest,
} from "../../gen/flyteidl/admin/event_pb.js";
import { ResourceType, WorkflowExecutionIdentifierSchema } from "../../gen/flyteidl/core/identifier_pb.js";
import { failedPrecondition, invalidArgument, missingField, notFound } from "../errors.js";
import { NO_OUTBOX, OutboxCollector, type OutboxPolicy } from "../notifications/outbox-collector.js";
import type { DataStore } from "../repositories/data-store.js";
import { type ExecutionRow, getExecution, getExecutionById } from "../repositories/execution-repo.js";
import { insertOutboxMessages } from "../repositories/outbox-repo.js";
import { modelText } from "../transformers/model-text.js";
import { validateIdentifier, validateIdText } from "../validation/identifier-validator.js";
import { validateExecutionId } from "./execution-manager.js";
import { recordNodeEvent } from "./node-event-recorder.js";
import { recordTaskEvent } from "./task-event-recorder.js";
import { notifyWatchers, recordWorkflowEvent } from "./workflow-event-recorder.js";

export class EventManager {
  constructor(
    private readonly db: Knex,
    private readonly data: DataStore,
    /** Petrel's engine runs executions (config `engine`): events from outside are refused. */
    private readonly engineRuns: boolean,
    /** Where events and the notifications they trigger go (the outbox, in the event's transaction). */
    private readonly outbox: OutboxPolicy = NO_OUTBOX,
  ) {}

  /** Records an event, then writes the messages it puts in the outbox, in the same transaction. */
  private async recorded(trx: Knex, record: Promise<void>, collect: (o: OutboxCollector) => void) {
    await record;
    const outbox = new OutboxCollector(this.outbox);
    collect(outbox);
    await insertOutboxMessages(trx, outbox.take());
  }

  private async locked<T>(
    id: Parameters<typeof validateExecutionId>[0],
    missing: (text: string) => Error,
    fn: (trx: Knex, row: ExecutionRow) => Promise<T>,
  ): Promise<T> {
    const key = validateExecutionId(id);
    if (this.engineRuns) {
      throw failedPrecondition(
        `execution ${key.project}/${key.domain}/${key.name} is run by Petrel's engine; events are accepted only when the engine is off`,
      );
    }
    return this.db.transaction(async (trx) => {
      const found = await getExecution(trx, key);
      if (found === undefined)
        throw missing(
          modelText(WorkflowExecutionIdentifierSchema, {
            $typeName: "flyteidl.core.WorkflowExecutionIdentifier",
            ...key,
            org: "",
          }),
        );
      const row = (await getExecutionById(trx, found.id, true)) ?? found;
      const result = await fn(trx, row);
      await notifyWatchers(trx, row.id);
      return result;
    });
  }

  async createWorkflowEvent(req: WorkflowExecutionEventRequest): Promise<void> {
    const e = req.event;
    if (e === undefined) throw invalidArgument("Workflow event handler was called without event");
    if (e.executionId === undefined)
      throw invalidArgument("Workflow event handler request event doesn't have an execution id - <nil>");
    if (e.occurredAt === undefined) throw missingField("occurred_at");
    await this.locked(
      e.executionId,
      (t) => notFound(`missing entity of type execution with identifier ${t}`),
      (trx, row) =>
        this.recorded(trx, recordWorkflowEvent(trx, this.data, row, e), (o) => o.workflow(row, e)),
    );
  }

  async createNodeEvent(req: NodeExecutionEventRequest): Promise<void> {
    const e = req.event;
    if (e === undefined) throw missingField("event");
    if (e.id === undefined || e.id.nodeId === "") throw missingField("node_id");
    validateIdText("node_id", e.id.nodeId);
    if (e.occurredAt === undefined) throw missingField("occurred_at");
    await this.locked(
      e.id.executionId,
      (t) => notFound(`Failed to get existing execution id: [${t}] with err: entry not found`),
      (trx, row) => this.recorded(trx, recordNodeEvent(trx, this.data, row, e), (o) => o.node(row, e)),
    );
  }

  async createTaskEvent(req: TaskExecutionEventRequest): Promise<void> {
    const e = req.event;
    if (e === undefined) throw missingField("event");
    if (e.occurredAt === undefined) throw missingField("occurred_at");
    if (e.taskId === undefined) throw missingField("task_id");
    if (e.parentNodeExecutionId === undefined || e.parentNodeExecutionId.nodeId === "")
      throw missingField("node_execution_id");
    // The task id is stored as the attempt's key: Flyte's identifier rules (TASK, all fields set) and the limits
    // of stored names, which project and domain are here too (nothing checks that they are registered).
    validateIdentifier(e.taskId, ResourceType.TASK);
    validateIdText("project", e.taskId.project);
    validateIdText("domain", e.taskId.domain);
    await this.locked(
      e.parentNodeExecutionId.executionId,
      (t) => notFound(`missing entity of type execution with identifier ${t}`),
      (trx, row) => this.recorded(trx, recordTaskEvent(trx, this.data, row, e), (o) => o.task(row, e)),
    );
  }
}
