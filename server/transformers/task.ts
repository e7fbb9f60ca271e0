// Task rows <-> admin.Task messages. The closure is stored without its timestamp, which comes from the row.
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { type Task, TaskClosureSchema, TaskSchema } from "../../gen/flyteidl/admin/task_pb.js";
import { type CompiledTask, CompiledTaskSchema } from "../../gen/flyteidl/core/compiler_pb.js";
import { IdentifierSchema, ResourceType } from "../../gen/flyteidl/core/identifier_pb.js";
import type { TaskRow } from "../repositories/task-repo.js";

export function encodeTaskClosure(compiled: CompiledTask): Buffer {
  return Buffer.from(toBinary(TaskClosureSchema, create(TaskClosureSchema, { compiledTask: compiled })));
}

export function rowToTask(row: TaskRow): Task {
  const closure = fromBinary(TaskClosureSchema, row.closure);
  closure.createdAt = timestampFromDate(row.created_at);
  return create(TaskSchema, {
    id: create(IdentifierSchema, {
      resourceType: ResourceType.TASK,
      project: row.project,
      domain: row.domain,
      name: row.name,
      version: row.version,
    }),
    closure,
    shortDescription: row.short_description,
  });
}

export function compiledTaskOf(row: TaskRow): CompiledTask {
  return fromBinary(TaskClosureSchema, row.closure).compiledTask ?? create(CompiledTaskSchema);
}
