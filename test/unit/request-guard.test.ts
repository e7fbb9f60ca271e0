// The request guard: the reflective checks of validation/message-guard.ts directly, and the interceptor in Connect's
// in-memory router (unary and server-streaming requests), with the production error translation in front of it.
import { create, type DescMessage, type Message, type MessageInitShape } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient, createRouterTransport } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { ResourceListRequestSchema, type Sort_Direction } from "../../gen/flyteidl/admin/common_pb.js";
import { WorkflowExecutionEventRequestSchema } from "../../gen/flyteidl/admin/event_pb.js";
import {
  ExecutionCreateRequestSchema,
  WorkflowExecutionGetRequestSchema,
} from "../../gen/flyteidl/admin/execution_pb.js";
import { ProjectRegisterRequestSchema } from "../../gen/flyteidl/admin/project_pb.js";
import { TaskCreateRequestSchema } from "../../gen/flyteidl/admin/task_pb.js";
import { WorkflowCreateRequestSchema } from "../../gen/flyteidl/admin/workflow_pb.js";
import { WorkflowExecution_Phase } from "../../gen/flyteidl/core/execution_pb.js";
import { TaskExecutionIdentifierSchema } from "../../gen/flyteidl/core/identifier_pb.js";
import { type Literal, LiteralSchema } from "../../gen/flyteidl/core/literals_pb.js";
import type { SimpleType } from "../../gen/flyteidl/core/types_pb.js";
import { AdminService } from "../../gen/flyteidl/service/admin_pb.js";
import { WatchService } from "../../gen/petrel/v1/watch_pb.js";
import { AppError } from "../../server/errors.js";
import { createLogger } from "../../server/logger.js";
import { errorInterceptor } from "../../server/transport/interceptors.js";
import { requestGuardInterceptor } from "../../server/transport/request-guard.js";
import { checkMessage } from "../../server/validation/message-guard.js";
import {
  intType,
  literalInt,
  literalString,
  simple,
  taskId,
  taskNode,
  taskTemplate,
  workflowTemplate,
} from "../fixtures/flyte-builders.js";

/** The guard's complaint about a message, or undefined when it passes. */
function problem<Desc extends DescMessage>(desc: Desc, init: MessageInitShape<Desc>): string | undefined {
  try {
    checkMessage(desc, create(desc, init) as Message);
    return undefined;
  } catch (err) {
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe(Code.InvalidArgument);
    return (err as AppError).message;
  }
}

const NUL = "must not contain a NUL character (U+0000)";
const collection = (...literals: Literal[]): Literal =>
  create(LiteralSchema, { value: { case: "collection", value: { literals } } });

describe("checkMessage", () => {
  it("passes ordinary requests, zero enums and empty messages", () => {
    expect(problem(WorkflowExecutionGetRequestSchema, {})).toBeUndefined();
    expect(
      problem(ExecutionCreateRequestSchema, {
        project: "flytesnacks",
        domain: "development",
        spec: { launchPlan: taskId("t"), labels: { values: { team: "a" } }, interruptible: true },
        inputs: { literals: { a: literalInt(1), b: literalString("x"), c: collection(literalInt(2)) } },
      }),
    ).toBeUndefined();
    const template = taskTemplate({
      inputs: { a: intType() },
      edit: (t) => (t.custom = { a: ["b", 1, null] }),
    });
    expect(problem(TaskCreateRequestSchema, { id: taskId("t"), spec: { template } })).toBeUndefined();
  });

  it("names the path of a NUL character: fields, oneof members, list indexes, map keys and values", () => {
    expect(problem(WorkflowExecutionGetRequestSchema, { id: { name: "a\0" } })).toBe(`id.name ${NUL}`);
    expect(problem(ProjectRegisterRequestSchema, { project: { labels: { values: { "k\0": "v" } } } })).toBe(
      `keys of project.labels.values ${NUL}`,
    );
    const wf = workflowTemplate({ nodes: [taskNode("n0", taskId("t")), taskNode("n1", taskId("t\0"))] });
    expect(problem(WorkflowCreateRequestSchema, { spec: { template: wf } })).toBe(
      `spec.template.nodes[1].task_node.reference_id.name ${NUL}`,
    );
    const blob = create(LiteralSchema, {
      value: { case: "scalar", value: { value: { case: "blob", value: { uri: "s3://x\0" } } } },
    });
    expect(
      problem(ExecutionCreateRequestSchema, { inputs: { literals: { a: collection(literalInt(1), blob) } } }),
    ).toBe(`inputs.literals["a"].collection.literals[1].scalar.blob.uri ${NUL}`);
  });

  it("walks Struct fields held as JSON objects, keys and nested values", () => {
    const withCustom = (custom: Record<string, never> | object) =>
      problem(TaskCreateRequestSchema, {
        spec: { template: taskTemplate({ edit: (t) => (t.custom = custom as never) }) },
      });
    expect(withCustom({ a: { b: ["x", "y\0"] } })).toBe(`spec.template.custom["a"]["b"][1] ${NUL}`);
    expect(withCustom({ a: { "b\0": 1 } })).toBe(`keys of spec.template.custom["a"] ${NUL}`);
  });

  it("lets NUL characters through in literal payloads (string values and generic Structs)", () => {
    const generic = create(LiteralSchema, {
      value: { case: "scalar", value: { value: { case: "generic", value: { a: "b\0" } } } },
    });
    expect(
      problem(ExecutionCreateRequestSchema, {
        inputs: { literals: { s: literalString("a\0b"), g: generic, c: collection(literalString("\0")) } },
      }),
    ).toBeUndefined();
  });

  it("refuses enum values the proto does not declare, in fields, lists and nested types", () => {
    expect(problem(ResourceListRequestSchema, { sortBy: { direction: 2 as Sort_Direction } })).toBe(
      "invalid value for sort_by.direction: 2 is not a known Sort.Direction",
    );
    const template = taskTemplate({ inputs: { a: simple(12 as SimpleType) } });
    expect(problem(TaskCreateRequestSchema, { spec: { template } })).toBe(
      'invalid value for spec.template.interface.inputs.variables["a"].type.simple: 12 is not a known SimpleType',
    );
    const notification = {
      recipientsEmail: ["x\0"],
      phases: [WorkflowExecution_Phase.FAILED, 99 as WorkflowExecution_Phase],
    };
    const withNotification = {
      spec: {
        notificationOverrides: {
          case: "notifications" as const,
          value: { notifications: [{ type: { case: "email" as const, value: notification } }] },
        },
      },
    };
    // Notification phases are left to the launch-plan validator (FlyteAdmin's `invalid value for phase`); the oneof
    // member holding them is still walked.
    expect(problem(ExecutionCreateRequestSchema, withNotification)).toBe(
      `spec.notifications.notifications[0].email.recipients_email[0] ${NUL}`,
    );
    notification.recipientsEmail = ["ops@example.com"];
    expect(problem(ExecutionCreateRequestSchema, withNotification)).toBeUndefined();
    expect(problem(TaskCreateRequestSchema, { spec: { template: taskTemplate() } })).toBeUndefined();
  });

  it("checks Durations against protobuf's range (same sign, nanos within a second)", () => {
    const timeout = (seconds: bigint, nanos = 0) =>
      problem(TaskCreateRequestSchema, {
        spec: {
          template: taskTemplate({
            edit: (t) => {
              if (t.metadata !== undefined)
                t.metadata.timeout = { $typeName: "google.protobuf.Duration", seconds, nanos };
            },
          }),
        },
      });
    const out = /^invalid value for spec\.template\.metadata\.timeout: duration out of range/;
    expect(timeout(315_576_000_000n, 999_999_999)).toBeUndefined();
    expect(timeout(-315_576_000_000n, -999_999_999)).toBeUndefined();
    expect(timeout(315_576_000_001n)).toMatch(out);
    expect(timeout(-(2n ** 63n))).toMatch(out);
    expect(timeout(0n, 1_000_000_000)).toMatch(out);
    expect(timeout(1n, -1)).toMatch(out);
    expect(timeout(-1n, 1)).toMatch(out);
  });

  it("checks Timestamps against protobuf's range", () => {
    const at = (seconds: bigint, nanos = 0) =>
      problem(WorkflowExecutionEventRequestSchema, { event: { occurredAt: { seconds, nanos } } });
    expect(at(253_402_300_799n, 999_999_999)).toBeUndefined();
    expect(at(-62_135_596_800n)).toBeUndefined();
    expect(at(253_402_300_800n)).toMatch(/^invalid value for event\.occurred_at: timestamp out of range/);
    expect(at(0n, -1)).toMatch(/^invalid value for event\.occurred_at: /);
  });

  it("keeps integers stored in integer columns within int32", () => {
    expect(problem(TaskExecutionIdentifierSchema, { retryAttempt: 2147483647 })).toBeUndefined();
    expect(problem(TaskExecutionIdentifierSchema, { retryAttempt: 2147483648 })).toBe(
      "invalid value for retry_attempt: 2147483648 is out of range (at most 2147483647)",
    );
    // Other unsigned fields are not stored in integer columns.
    expect(problem(ResourceListRequestSchema, { limit: 4294967295 })).toBeUndefined();
  });
});

describe("requestGuardInterceptor", () => {
  const logger = createLogger("silent");
  const transport = createRouterTransport(
    (router) => {
      router.service(AdminService, { getExecution: () => ({}) });
      router.service(WatchService, {
        async *watchExecution() {
          yield {};
        },
      });
    },
    { router: { interceptors: [errorInterceptor(logger), requestGuardInterceptor()] } },
  );

  it("answers INVALID_ARGUMENT for a bad unary request and lets a good one through", async () => {
    const admin = createClient(AdminService, transport);
    await expect(admin.getExecution({ id: { name: "ok" } })).resolves.toBeDefined();
    const err = await admin.getExecution({ id: { name: "a\0" } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectError);
    expect({ code: (err as ConnectError).code, message: (err as ConnectError).rawMessage }).toEqual({
      code: Code.InvalidArgument,
      message: `id.name ${NUL}`,
    });
  });

  it("checks the request of a server-streaming call", async () => {
    const watch = createClient(WatchService, transport);
    const read = async (name: string) => {
      const got: unknown[] = [];
      for await (const e of watch.watchExecution({ id: { name } })) got.push(e);
      return got;
    };
    expect(await read("ok")).toHaveLength(1);
    const err = await read("x\0").catch((e: unknown) => e);
    expect({ code: (err as ConnectError).code, message: (err as ConnectError).rawMessage }).toEqual({
      code: Code.InvalidArgument,
      message: `id.name ${NUL}`,
    });
  });
});
