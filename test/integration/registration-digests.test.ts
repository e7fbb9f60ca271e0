// Re-registering identical content is ALREADY_EXISTS however a client encodes it: map entries in another order on
// the wire and unknown fields appended (as a Python client may send them) never make it "different structure",
// rows stored with a digest of wire bytes (before digests were canonical) included. Different content still is.
import { create, type DescMessage, type Message, type MessageInitShape, toBinary } from "@bufbuild/protobuf";
import { WireType } from "@bufbuild/protobuf/wire";
import * as grpc from "@grpc/grpc-js";
import type { Knex } from "knex";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  LaunchPlanCreateRequestSchema,
  LaunchPlanSpecSchema,
} from "../../gen/flyteidl/admin/launch_plan_pb.js";
import { TaskCreateRequestSchema } from "../../gen/flyteidl/admin/task_pb.js";
import { WorkflowCreateRequestSchema } from "../../gen/flyteidl/admin/workflow_pb.js";
import { ParameterSchema } from "../../gen/flyteidl/core/interface_pb.js";
import type { TaskTemplate } from "../../gen/flyteidl/core/tasks_pb.js";
import { WorkflowMetadataSchema, type WorkflowTemplate } from "../../gen/flyteidl/core/workflow_pb.js";
import { AdminService } from "../../gen/flyteidl/service/admin_pb.js";
import { createDatabase } from "../../server/db/database.js";
import {
  bind,
  intType,
  launchPlanId,
  literalInt,
  literalString,
  stringType,
  taskId,
  taskNode,
  workflowId,
  workflowTemplate,
} from "../fixtures/flyte-builders.js";
import { inOrder, mapHeavyTemplate } from "../fixtures/map-order-builders.js";
import { startTestServer, type TestServer } from "../support/test-server.js";

let t: TestServer;
let db: Knex;
let raw: grpc.Client;

beforeAll(async () => {
  t = await startTestServer();
  db = createDatabase(t.database.url, 1);
  raw = new grpc.Client(t.grpcAddress, grpc.credentials.createInsecure());
  await t.admin.registerProject({ project: { id: "flytesnacks", name: "flytesnacks" } });
});
afterAll(async () => {
  raw?.close();
  await db?.destroy();
  await t?.stop();
});

const defaultParameter = (n: number) =>
  create(ParameterSchema, { var: { type: intType() }, behavior: { case: "default", value: literalInt(n) } });

/** Sends an encoded request as is over @grpc/grpc-js; the status code and message of the answer. */
function sendRaw(method: keyof typeof AdminService.method, bytes: Uint8Array) {
  const path = `/${AdminService.typeName}/${AdminService.method[method].name}`;
  return new Promise<{ code: grpc.status; details: string }>((resolve) => {
    raw.makeUnaryRequest(
      path,
      (b: Buffer) => b,
      (b: Buffer) => b,
      Buffer.from(bytes),
      (err) => resolve({ code: err?.code ?? grpc.status.OK, details: err?.details ?? "" }),
    );
  });
}

const encode = <D extends DescMessage>(schema: D, init: MessageInitShape<D>) =>
  toBinary(schema, create(schema, init));

/** Marks a message with a field this server's schema does not know, which it encodes after the known ones. */
const withUnknown = (m: Message) => {
  m.$unknown = [{ no: 9_999, wireType: WireType.LengthDelimited, data: new Uint8Array([3, 65, 66, 67]) }];
};

/** Makes the stored digest one of wire bytes, as rows registered before canonical digests hold. */
const legacyDigest = (table: string, name: string) =>
  db(table)
    .where({ name })
    .update({ digest: db.raw("encode(sha256(closure), 'hex')") });

/**
 * Registers `first`, then checks re-registrations: `same` (the same values encoded otherwise) is ALREADY_EXISTS,
 * also against a row with a legacy digest, and `different` is INVALID_ARGUMENT naming `changed` in its diff.
 */
async function expectDigestSemantics(o: {
  readonly method: "createTask" | "createWorkflow" | "createLaunchPlan";
  readonly table: string;
  readonly kind: string;
  readonly name: string;
  readonly first: Uint8Array;
  readonly same: Uint8Array;
  readonly different: Uint8Array;
  readonly changed: string;
}) {
  expect(Buffer.from(o.same).equals(Buffer.from(o.first))).toBe(false);
  expect(await sendRaw(o.method, o.first)).toEqual({ code: grpc.status.OK, details: "" });
  const identical = {
    code: grpc.status.ALREADY_EXISTS,
    details: `${o.kind} with identical structure already exists`,
  };
  expect(await sendRaw(o.method, o.same)).toEqual(identical);
  expect(await legacyDigest(o.table, o.name)).toBe(1);
  expect(await sendRaw(o.method, o.same)).toEqual(identical);
  expect(await sendRaw(o.method, o.first)).toEqual(identical);
  const different = await sendRaw(o.method, o.different);
  expect(different.code).toBe(grpc.status.INVALID_ARGUMENT);
  expect(different.details).toMatch(`${o.name} ${o.kind} with different structure already exists`);
  expect(different.details).toContain(o.changed);
}

describe("re-registration digests", () => {
  const task = taskId("digest.task");

  it("tasks: map entry order and unknown fields do not count, values do", async () => {
    const request = (reversed: boolean, edit?: (t: TaskTemplate) => void) =>
      encode(TaskCreateRequestSchema, {
        id: task,
        spec: { template: mapHeavyTemplate(task, reversed, edit) },
      });
    await expectDigestSemantics({
      method: "createTask",
      table: "tasks",
      kind: "task",
      name: task.name,
      first: request(false),
      same: request(true, withUnknown),
      different: request(true, (t) => {
        t.config.k2 = "changed";
      }),
      changed: '/template/config/k2:\n\t- "v2" \n\t+ "changed"',
    });
  });

  it("workflows: the same, over the compiled closure", async () => {
    const id = workflowId("digest.wf");
    const template = (reversed: boolean, edit?: (w: WorkflowTemplate) => void) => {
      const w = workflowTemplate({
        id,
        inputs: inOrder(
          [
            ["x", intType()],
            ["s", stringType()],
            ["y", intType()],
          ],
          reversed,
        ),
        outputs: inOrder(
          [
            ["o", intType()],
            ["p", stringType()],
          ],
          reversed,
        ),
        nodes: [taskNode("n0", task, [bind("a", "", "x"), bind("b", "", "s"), bind("c", "", "y")])],
        outputBindings: [bind("o", "n0", "o"), bind("p", "n0", "p")],
      });
      w.metadata = create(WorkflowMetadataSchema, {
        tags: inOrder(
          [
            ["team", "a"],
            ["tier", "b"],
            ["zone", "c"],
          ],
          reversed,
        ),
      });
      edit?.(w);
      return encode(WorkflowCreateRequestSchema, { id, spec: { template: w } });
    };
    await expectDigestSemantics({
      method: "createWorkflow",
      table: "workflows",
      kind: "workflow",
      name: id.name,
      first: template(false),
      same: template(true, withUnknown),
      different: template(true, (w) => {
        if (w.metadata !== undefined) w.metadata.tags.tier = "B";
      }),
      changed: '/primary/template/metadata/tags/tier:\n\t- "b" \n\t+ "B"',
    });
  });

  it("launch plans: the same, over the spec and the expected inputs and outputs (of the workflow above)", async () => {
    const id = launchPlanId("digest.wf");
    const request = (reversed: boolean, label = "1") => {
      const spec = create(LaunchPlanSpecSchema, {
        workflowId: workflowId("digest.wf"),
        defaultInputs: {
          parameters: inOrder(
            [
              ["x", defaultParameter(1)],
              ["y", defaultParameter(2)],
            ],
            reversed,
          ),
        },
        fixedInputs: { literals: { s: literalString("fixed") } },
        labels: {
          values: inOrder(
            [
              ["l1", label],
              ["l2", "2"],
            ],
            reversed,
          ),
        },
        annotations: {
          values: inOrder(
            [
              ["a1", "x"],
              ["a2", "y"],
            ],
            reversed,
          ),
        },
        interruptible: true,
      });
      if (reversed) withUnknown(spec);
      return encode(LaunchPlanCreateRequestSchema, { id, spec });
    };
    await expectDigestSemantics({
      method: "createLaunchPlan",
      table: "launch_plans",
      kind: "launch plan",
      name: id.name,
      first: request(false),
      same: request(true),
      different: request(true, "one"),
      changed: '/labels/values/l1:\n\t- "1" \n\t+ "one"',
    });
  });
});
