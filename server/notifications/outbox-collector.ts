// What one transaction's events put in the outbox: the notifications an execution's phase change promises (the
// resolved closure.notifications, where the execution's overrides and disable_all already won over the launch
// plan's) and, for each configured event sink, every workflow, node and task event as a CloudEvent (structured
// mode JSON), in one stream per execution and sink so they are delivered in order.
import { randomUUID } from "node:crypto";
import { type DescMessage, toJson } from "@bufbuild/protobuf";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import type { Notification } from "../../gen/flyteidl/admin/common_pb.js";
import {
  ExecutionError_ErrorKind,
  WorkflowExecution_Phase as Phase,
} from "../../gen/flyteidl/core/execution_pb.js";
import {
  type NodeExecutionEvent,
  NodeExecutionEventSchema,
  type TaskExecutionEvent,
  TaskExecutionEventSchema,
  type WorkflowExecutionEvent,
  WorkflowExecutionEventSchema,
} from "../../gen/flyteidl/event/event_pb.js";
import type { ExecutionRow } from "../repositories/execution-repo.js";
import type { OutboxInsert } from "../repositories/outbox-repo.js";
import { decodeExecClosure } from "../transformers/execution.js";

/** Where messages go (from the config); shared by every transaction of a server. */
export interface OutboxPolicy {
  /** HTTP endpoints that receive every event as a CloudEvent. */
  readonly eventSinks: readonly string[];
  /** The CloudEvents `source` (the server's public URL). */
  readonly source: string;
}

export const NO_OUTBOX: OutboxPolicy = { eventSinks: [], source: "petrel" };

/** What a notification message carries; the sender renders it with the template. */
export interface NotificationPayload {
  readonly kind: "email" | "slack" | "pager_duty";
  readonly project: string;
  readonly domain: string;
  readonly name: string;
  readonly phase: string;
  /** Seconds from RUNNING to the terminal phase (0 when it never ran). */
  readonly duration: number;
  readonly error: { readonly code: string; readonly message: string; readonly kind: string } | null;
  readonly workflow: string;
  readonly occurredAt: string;
}

const CE_PREFIX = "com.flyte.resource.cloudevents";
const isUrl = (r: string) => /^https?:\/\//i.test(r);
const KINDS = { email: "email", slack: "slack", pagerDuty: "pager_duty" } as const;

const execText = (row: ExecutionRow) =>
  `${row.execution_project}/${row.execution_domain}/${row.execution_name}`;

/** The messages a notification list promises for `payload`'s phase: one email to all addresses, one post per URL. */
export function notificationMessages(
  notifications: readonly Notification[],
  phase: Phase,
  base: Omit<NotificationPayload, "kind">,
): OutboxInsert[] {
  const out: OutboxInsert[] = [];
  const execution = `${base.project}/${base.domain}/${base.name}`;
  for (const n of notifications) {
    if (!n.phases.includes(phase) || n.type.case === undefined) continue;
    const kind = KINDS[n.type.case];
    const payload = JSON.stringify({ ...base, kind });
    const recipients = n.type.value.recipientsEmail.map((r) => r.trim()).filter((r) => r !== "");
    const emails = recipients.filter((r) => !isUrl(r));
    if (emails.length > 0)
      out.push({ channel: "email", target: emails.join(","), stream: null, execution, payload });
    for (const url of recipients.filter(isUrl)) {
      const channel = kind === "slack" ? "slack-webhook" : "webhook";
      out.push({ channel, target: url, stream: null, execution, payload });
    }
  }
  return out;
}

function eventJson(schema: DescMessage, event: Parameters<typeof toJson>[1]): unknown {
  try {
    return toJson(schema, event);
  } catch {
    // A value that needs a type registry (an Any): the event without its inline data.
    const { inputValue: _i, outputResult: _o, ...rest } = event as unknown as Record<string, unknown>;
    return toJson(schema, { ...rest, $typeName: schema.typeName } as Parameters<typeof toJson>[1]);
  }
}

export class OutboxCollector {
  private readonly rows: OutboxInsert[] = [];

  constructor(private readonly policy: OutboxPolicy = NO_OUTBOX) {}

  /** A workflow event recorded against `row` (the execution as it was before the event). */
  workflow(row: ExecutionRow, e: WorkflowExecutionEvent): void {
    const closure = decodeExecClosure(row);
    if (closure.notifications.length > 0) {
      const at = e.occurredAt === undefined ? new Date() : timestampDate(e.occurredAt);
      const err = e.outputResult.case === "error" ? e.outputResult.value : undefined;
      const wf = closure.workflowId;
      this.rows.push(
        ...notificationMessages(closure.notifications, e.phase, {
          project: row.execution_project,
          domain: row.execution_domain,
          name: row.execution_name,
          phase: Phase[e.phase] ?? "UNDEFINED",
          duration: row.started_at === null ? 0 : (at.getTime() - row.started_at.getTime()) / 1000,
          error:
            err === undefined
              ? null
              : {
                  code: err.code,
                  message: err.message,
                  kind: ExecutionError_ErrorKind[err.kind] ?? "UNKNOWN",
                },
          workflow: wf === undefined ? "" : `${wf.project}/${wf.domain}/${wf.name}@${wf.version}`,
          occurredAt: at.toISOString(),
        }),
      );
    }
    this.event(row, "WorkflowExecution", WorkflowExecutionEventSchema, e);
  }

  node(exec: ExecutionRow, e: NodeExecutionEvent): void {
    this.event(exec, "NodeExecution", NodeExecutionEventSchema, e);
  }

  task(exec: ExecutionRow, e: TaskExecutionEvent): void {
    this.event(exec, "TaskExecution", TaskExecutionEventSchema, e);
  }

  private event(
    exec: ExecutionRow,
    type: string,
    schema: DescMessage,
    e: WorkflowExecutionEvent | NodeExecutionEvent | TaskExecutionEvent,
  ): void {
    if (this.policy.eventSinks.length === 0) return;
    const execution = execText(exec);
    const payload = JSON.stringify({
      specversion: "1.0",
      id: randomUUID(),
      source: this.policy.source,
      type: `${CE_PREFIX}.${type}`,
      subject: execution,
      time: (e.occurredAt === undefined ? new Date() : timestampDate(e.occurredAt)).toISOString(),
      datacontenttype: "application/json",
      data: eventJson(schema, e),
    });
    for (const sink of this.policy.eventSinks)
      this.rows.push({
        channel: "cloudevent",
        target: sink,
        stream: `${sink} ${exec.id}`,
        execution,
        payload,
      });
  }

  /** The messages collected since the last call, in order. */
  take(): OutboxInsert[] {
    return this.rows.splice(0, this.rows.length);
  }

  get size(): number {
    return this.rows.length;
  }
}
