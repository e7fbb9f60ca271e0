// Launch plan rows <-> admin.LaunchPlan messages. State and timestamps come from the row.
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import {
  type LaunchPlan,
  type LaunchPlanClosure,
  LaunchPlanClosureSchema,
  LaunchPlanSchema,
  type LaunchPlanSpec,
  LaunchPlanSpecSchema,
} from "../../gen/flyteidl/admin/launch_plan_pb.js";
import { IdentifierSchema, ResourceType } from "../../gen/flyteidl/core/identifier_pb.js";
import type { LaunchPlanRow } from "../repositories/launch-plan-repo.js";

export const encodeSpec = (s: LaunchPlanSpec): Buffer => Buffer.from(toBinary(LaunchPlanSpecSchema, s));
export const encodeClosure = (c: LaunchPlanClosure): Buffer =>
  Buffer.from(toBinary(LaunchPlanClosureSchema, c));
export const decodeSpec = (row: Pick<LaunchPlanRow, "spec">): LaunchPlanSpec =>
  fromBinary(LaunchPlanSpecSchema, row.spec);
export const decodeClosure = (row: Pick<LaunchPlanRow, "closure">): LaunchPlanClosure =>
  fromBinary(LaunchPlanClosureSchema, row.closure);

export function scheduleType(spec: LaunchPlanSpec): string {
  const c = spec.entityMetadata?.schedule?.ScheduleExpression.case;
  if (c === "rate") return "RATE";
  if (c === "cronSchedule" || c === "cronExpression") return "CRON";
  return "NONE";
}

export function rowToLaunchPlan(row: LaunchPlanRow): LaunchPlan {
  const closure = decodeClosure(row);
  closure.state = row.state;
  closure.createdAt = timestampFromDate(row.created_at);
  closure.updatedAt = timestampFromDate(row.updated_at);
  return create(LaunchPlanSchema, {
    id: create(IdentifierSchema, {
      resourceType: ResourceType.LAUNCH_PLAN,
      project: row.project,
      domain: row.domain,
      name: row.name,
      version: row.version,
    }),
    spec: decodeSpec(row),
    closure,
  });
}

export function launchPlanClosure(
  init: Pick<LaunchPlanClosure, "expectedInputs" | "expectedOutputs">,
): LaunchPlanClosure {
  return create(LaunchPlanClosureSchema, {
    ...(init.expectedInputs === undefined ? {} : { expectedInputs: init.expectedInputs }),
    ...(init.expectedOutputs === undefined ? {} : { expectedOutputs: init.expectedOutputs }),
  });
}
