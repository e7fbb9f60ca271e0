// Workflow rows <-> admin.Workflow messages; lists carry only the interface (as FlyteAdmin's do).
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import {
  type Workflow,
  WorkflowClosureSchema,
  WorkflowSchema,
} from "../../gen/flyteidl/admin/workflow_pb.js";
import {
  type CompiledWorkflowClosure,
  CompiledWorkflowClosureSchema,
} from "../../gen/flyteidl/core/compiler_pb.js";
import { IdentifierSchema, ResourceType } from "../../gen/flyteidl/core/identifier_pb.js";
import { TypedInterfaceSchema } from "../../gen/flyteidl/core/interface_pb.js";
import type { WorkflowRow } from "../repositories/workflow-repo.js";

export const encodeCompiledWorkflow = (c: CompiledWorkflowClosure): Buffer =>
  Buffer.from(toBinary(CompiledWorkflowClosureSchema, c));

export const decodeCompiledWorkflow = (row: Pick<WorkflowRow, "closure">): CompiledWorkflowClosure =>
  fromBinary(CompiledWorkflowClosureSchema, row.closure);

function workflowId(row: WorkflowRow) {
  return create(IdentifierSchema, {
    resourceType: ResourceType.WORKFLOW,
    project: row.project,
    domain: row.domain,
    name: row.name,
    version: row.version,
  });
}

export function rowToWorkflow(row: WorkflowRow): Workflow {
  return create(WorkflowSchema, {
    id: workflowId(row),
    closure: create(WorkflowClosureSchema, {
      compiledWorkflow: decodeCompiledWorkflow(row),
      createdAt: timestampFromDate(row.created_at),
    }),
    shortDescription: row.short_description,
  });
}

/** The list form: `compiled_workflow.primary.template.interface` and `created_at` only. */
export function rowToWorkflowSummary(row: WorkflowRow): Workflow {
  const iface = fromBinary(TypedInterfaceSchema, row.typed_interface);
  return create(WorkflowSchema, {
    id: workflowId(row),
    closure: create(WorkflowClosureSchema, {
      compiledWorkflow: { primary: { template: { interface: iface } } },
      createdAt: timestampFromDate(row.created_at),
    }),
    shortDescription: row.short_description,
  });
}
