import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { BinaryWriter } from "@bufbuild/protobuf/wire";
import { describe, expect, it } from "vitest";
import { TaskSpecSchema } from "../../gen/flyteidl/admin/task_pb.js";
import { WorkflowSpecSchema } from "../../gen/flyteidl/admin/workflow_pb.js";
import { TaskTemplateSchema } from "../../gen/flyteidl/core/tasks_pb.js";

/** Appends fields our definitions do not declare (as a newer flyteidl would send them). */
function withUnknownFields(bytes: Uint8Array): Uint8Array {
  const extra = new BinaryWriter().tag(9001, 2).string("from the future").tag(9002, 0).int64(42n).finish();
  const out = new Uint8Array(bytes.length + extra.length);
  out.set(bytes);
  out.set(extra, bytes.length);
  return out;
}

describe("specs with fields Petrel does not know", () => {
  it("round-trip byte for byte through decode and encode", () => {
    const template = create(TaskTemplateSchema, {
      type: "python-task",
      id: { project: "p", domain: "d", name: "t", version: "v" },
      custom: { fields: { a: { kind: { case: "stringValue", value: "b" } } } },
    });
    const inner = withUnknownFields(toBinary(TaskTemplateSchema, template));
    const specBytes = new BinaryWriter().tag(1, 2).bytes(inner).finish();
    const wire = withUnknownFields(specBytes);
    const decoded = fromBinary(TaskSpecSchema, wire);
    expect(decoded.template?.type).toBe("python-task");
    expect(toBinary(TaskSpecSchema, decoded)).toEqual(wire);
  });

  it("keep unknown fields of nested messages when the known part is edited", () => {
    const spec = create(WorkflowSpecSchema, { template: { id: { name: "wf" } } });
    const wire = withUnknownFields(toBinary(WorkflowSpecSchema, spec));
    const decoded = fromBinary(WorkflowSpecSchema, wire);
    if (decoded.template?.id !== undefined) decoded.template.id.version = "v2";
    const again = fromBinary(WorkflowSpecSchema, toBinary(WorkflowSpecSchema, decoded));
    expect(again.template?.id?.version).toBe("v2");
    const tail = withUnknownFields(new Uint8Array()).length;
    expect(toBinary(WorkflowSpecSchema, again).subarray(-tail)).toEqual(wire.subarray(-tail));
  });
});
