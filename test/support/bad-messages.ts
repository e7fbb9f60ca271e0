// Request messages that do not decode: invalid UTF-8 in a string field, nesting past protobuf-es's limit of 100.
import { create, toBinary } from "@bufbuild/protobuf";
import { ExecutionCreateRequestSchema } from "../../gen/flyteidl/admin/execution_pb.js";
import { ProjectRegisterRequestSchema } from "../../gen/flyteidl/admin/project_pb.js";
import { type Literal, LiteralSchema } from "../../gen/flyteidl/core/literals_pb.js";
import { WatchExecutionRequestSchema } from "../../gen/petrel/v1/watch_pb.js";
import { literalInt } from "../fixtures/flyte-builders.js";

/** Replaces the first byte of `marker` in `bytes` with 0xff, which no UTF-8 string contains. */
function corrupt(bytes: Uint8Array, marker: string): Uint8Array {
  const out = Buffer.from(bytes);
  const at = out.indexOf(Buffer.from(marker));
  if (at < 0) throw new Error(`marker ${marker} not found`);
  out[at] = 0xff;
  return out;
}

/** RegisterProject with a project name that is not valid UTF-8. */
export function registerProjectWithBadUtf8(): Uint8Array {
  const req = create(ProjectRegisterRequestSchema, { project: { id: "utf8", name: "MARKER-NAME" } });
  return corrupt(toBinary(ProjectRegisterRequestSchema, req), "MARKER-NAME");
}

/** WatchExecution (server streaming) naming an execution that is not valid UTF-8. */
export function watchWithBadUtf8(): Uint8Array {
  const req = create(WatchExecutionRequestSchema, {
    id: { project: "flytesnacks", domain: "development", name: "MARKER-EXEC" },
  });
  return corrupt(toBinary(WatchExecutionRequestSchema, req), "MARKER-EXEC");
}

/** CreateExecution whose input is a collection of collections, `levels` literals deep. */
export function createExecutionNested(levels: number): Uint8Array {
  let literal: Literal = literalInt(1);
  for (let i = 0; i < levels; i++) {
    literal = create(LiteralSchema, { value: { case: "collection", value: { literals: [literal] } } });
  }
  const req = create(ExecutionCreateRequestSchema, {
    project: "flytesnacks",
    domain: "development",
    inputs: { literals: { x: literal } },
  });
  return toBinary(ExecutionCreateRequestSchema, req);
}
