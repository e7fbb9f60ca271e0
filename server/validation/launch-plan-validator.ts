// CreateLaunchPlan's checks (Flyte's order and texts) and the expected inputs a launch plan exposes.
import { create } from "@bufbuild/protobuf";
import { CronError, fixedRate, parseIsoDuration } from "../../common/cron.js";
import type { Notification } from "../../gen/flyteidl/admin/common_pb.js";
import type { LaunchPlanSpec } from "../../gen/flyteidl/admin/launch_plan_pb.js";
import type { Schedule } from "../../gen/flyteidl/admin/schedule_pb.js";
import { WorkflowExecution_Phase } from "../../gen/flyteidl/core/execution_pb.js";
import {
  type Parameter,
  type ParameterMap,
  ParameterMapSchema,
  ParameterSchema,
  type TypedInterface,
} from "../../gen/flyteidl/core/interface_pb.js";
import { SimpleType } from "../../gen/flyteidl/core/types_pb.js";
import { formatType, isCastable, isLiteralCastable } from "../compiler/type-cast.js";
import { invalidArgument, invalidField, missingField } from "../errors.js";
import { cronProblem } from "./cron.js";
import { validateLabels } from "./labels-validator.js";

const TERMINAL = new Set([
  WorkflowExecution_Phase.SUCCEEDED,
  WorkflowExecution_Phase.FAILED,
  WorkflowExecution_Phase.ABORTED,
  WorkflowExecution_Phase.TIMED_OUT,
]);

/** Literal-level checks of fixed and default inputs, before they are matched against the workflow. */
export function validateLaunchPlanInputs(spec: LaunchPlanSpec): void {
  validateLabels(spec.labels?.values ?? {});
  for (const [k, lit] of Object.entries(spec.fixedInputs?.literals ?? {})) {
    if (k === "") throw invalidArgument("missing key in fixed_inputs");
    if (lit.value.case === undefined) throw invalidArgument(`missing valid literal in fixed_inputs ${k}`);
  }
  for (const [k, p] of Object.entries(spec.defaultInputs?.parameters ?? {})) {
    if (p.var?.type === undefined) {
      throw invalidArgument(
        `The Variable component of the Parameter ${k} in default_inputs either is missing, or has a missing Type`,
      );
    }
    const b = p.behavior;
    if (b.case === "artifactQuery" || b.case === "artifactId") {
      throw invalidArgument(`artifact mode not enabled but query found default_inputs ${k}`);
    }
    if (b.case !== "default" && !(b.case === "required" && b.value)) {
      throw invalidArgument(
        `Invalid variable ${k} in default_inputs - variable has neither default, nor is required. One must be specified`,
      );
    }
    if (b.case === "default" && !isLiteralCastable(b.value, p.var.type)) {
      throw invalidArgument(
        `Type mismatch for Parameter ${k} in default_inputs has type ${formatType(p.var.type)}, expected ${formatType(p.var.type)}`,
      );
    }
  }
}

/** Matches defaults and fixed inputs against the workflow's inputs and returns the expected inputs. */
export function expectedInputs(spec: LaunchPlanSpec, wf: TypedInterface | undefined): ParameterMap {
  const wfInputs = wf?.inputs?.variables ?? {};
  const defaults = spec.defaultInputs?.parameters ?? {};
  const fixed = spec.fixedInputs?.literals ?? {};
  if (Object.keys(wfInputs).length === 0) {
    const nd = Object.keys(defaults).length;
    if (nd > 0) throw invalidArgument(`invalid launch plan default inputs, expected none but found ${nd}`);
    const nf = Object.keys(fixed).length;
    if (nf > 0) throw invalidArgument(`invalid launch plan fixed inputs, expected none but found ${nf}`);
  }
  for (const [k, p] of Object.entries(defaults)) {
    const v = wfInputs[k];
    if (v === undefined) throw invalidArgument(`unexpected default_input ${k}`);
    if (v.type !== undefined && p.var?.type !== undefined && !isCastable(p.var.type, v.type)) {
      throw invalidArgument(
        `invalid default_input wrong type ${k}, expected ${formatType(v.type)}, got ${formatType(p.var.type)} instead`,
      );
    }
  }
  for (const [k, lit] of Object.entries(fixed)) {
    const v = wfInputs[k];
    if (v === undefined) throw invalidArgument(`unexpected fixed_input ${k}`);
    if (v.type !== undefined && !isLiteralCastable(lit, v.type)) {
      throw invalidArgument(
        `invalid fixed_input wrong type ${k}, expected ${formatType(v.type)}, got ${lit.value.case} instead`,
      );
    }
  }
  const parameters: Record<string, Parameter> = {};
  for (const [k, v] of Object.entries(wfInputs)) {
    const given = defaults[k];
    if (given !== undefined) parameters[k] = given;
    else if (fixed[k] === undefined) {
      parameters[k] = create(ParameterSchema, { var: v, behavior: { case: "required", value: true } });
    }
  }
  return create(ParameterMapSchema, { parameters });
}

/**
 * A launch plan's schedule, as CreateLaunchPlan and activation check it (`expected` = the launch plan's expected
 * inputs). Flyte's checks and texts, plus what the scheduler needs to compute fire times: a fixed rate with a
 * known unit and a positive value of at most MAX_INTERVAL_DAYS, `@every` durations likewise, offsets that are ISO
 * 8601 durations, and a kickoff input that a fixed-rate schedule does not leave unbound.
 */
export function validateSchedule(spec: LaunchPlanSpec, expected: ParameterMap): void {
  const schedule = spec.entityMetadata?.schedule;
  if (schedule === undefined || schedule.ScheduleExpression.case === undefined) return;
  const kickoff = schedule.kickoffTimeInputArg;
  for (const [k, p] of Object.entries(expected.parameters)) {
    if (k !== kickoff && p.behavior.case === "required" && p.behavior.value) {
      throw invalidArgument(
        `Cannot create a launch plan with a schedule if there is an unbound required input. [${k}] is required`,
      );
    }
  }
  if (kickoff !== "") validateKickoff(schedule, expected);
  validateScheduleExpression(schedule);
}

function validateKickoff(schedule: Schedule, expected: ParameterMap): void {
  const kickoff = schedule.kickoffTimeInputArg;
  const p = expected.parameters[kickoff];
  if (p === undefined) {
    throw invalidArgument(
      `Cannot create a schedule with a KickoffTimeInputArg that does not point to a free input. [${kickoff}] is not free or does not exist.`,
    );
  }
  const t = p.var?.type?.type;
  if (t?.case !== "simple" || t.value !== SimpleType.DATETIME) {
    throw invalidArgument(
      `KickoffTimeInputArg must reference a datetime input. [${kickoff}] is a [${formatType(p.var?.type)}]`,
    );
  }
  // The native scheduler passes the kickoff time to cron schedules only: a fixed rate would never bind it.
  if (schedule.ScheduleExpression.case === "rate" && p.behavior.case !== "default") {
    throw invalidArgument(
      `Invalid schedule: kickoff_time_input_arg [${kickoff}] is required, but fixed-rate schedules do not set the kickoff time; give it a default or use a cron_schedule`,
    );
  }
}

/** The schedule expression alone: the cron text, the cron offset, or the fixed rate. */
function validateScheduleExpression(schedule: Schedule): void {
  const expr = schedule.ScheduleExpression;
  const problem = (check: () => unknown): string | undefined => {
    try {
      check();
      return undefined;
    } catch (err) {
      if (err instanceof CronError) return err.message;
      throw err;
    }
  };
  if (expr.case === "cronExpression" || expr.case === "cronSchedule") {
    const text = expr.case === "cronExpression" ? expr.value : expr.value.schedule;
    const cron = cronProblem(text);
    if (cron !== undefined) throw invalidArgument(`Invalid cron expression: ${cron}`);
  }
  if (expr.case === "cronSchedule" && expr.value.offset !== "") {
    const offset = problem(() => parseIsoDuration(expr.value.offset));
    if (offset !== undefined) throw invalidArgument(`Invalid cron_schedule.offset: ${offset}`);
  }
  if (expr.case === "rate") {
    const rate = problem(() => fixedRate(expr.value.value, expr.value.unit));
    if (rate !== undefined) throw invalidArgument(`Invalid fixed rate: ${rate}`);
  }
}

/**
 * Activation re-checks the stored schedule (it may predate these checks, or have been edited by hand): the stored
 * `default_inputs` are the expected inputs.
 */
export function validateActivation(spec: LaunchPlanSpec): void {
  validateSchedule(spec, spec.defaultInputs ?? create(ParameterMapSchema));
  // As in Flyte, the native scheduler refuses to add the deprecated expression (creating such a plan is allowed).
  if (spec.entityMetadata?.schedule?.ScheduleExpression.case === "cronExpression") {
    throw invalidArgument(
      "Invalid schedule: the deprecated cron_expression is not supported by the native scheduler; use cron_schedule",
    );
  }
}

export function validateNotifications(notifications: readonly Notification[]): void {
  for (const n of notifications) {
    if (n.type.case === undefined) throw invalidField("notification type");
    const recipients = n.type.value.recipientsEmail;
    if (recipients.length === 0) throw missingField("recipients");
    if (recipients.some((r) => r === "")) throw missingField("recipient");
    if (n.phases.some((p) => !TERMINAL.has(p))) throw invalidField("phase");
  }
}
