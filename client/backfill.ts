// Backfill plans: one launch-plan node per schedule tick in a generated `backfill-<launch plan>` workflow, as
// flytekit's launch_backfill builds it, chained unless parallel.
import { createHash } from "node:crypto";
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { fixedRate, parseCron, ticksBetween } from "../common/cron.js";
import type { LaunchPlan } from "../gen/flyteidl/admin/launch_plan_pb.js";
import {
  type WorkflowCreateRequest,
  WorkflowCreateRequestSchema,
} from "../gen/flyteidl/admin/workflow_pb.js";
import { IdentifierSchema, ResourceType } from "../gen/flyteidl/core/identifier_pb.js";
import type { NodeSchema } from "../gen/flyteidl/core/workflow_pb.js";

export interface BackfillOptions {
  /** A launch plan name (latest version unless `launchPlanVersion`) or a fetched launch plan. */
  readonly launchPlan: string | LaunchPlan;
  readonly launchPlanVersion?: string;
  readonly from: Date;
  readonly to: Date;
  /** Run the ticks' executions at once instead of one after another. */
  readonly parallel?: boolean;
  readonly dryRun?: boolean;
  /** Version of the generated workflow (default: derived from the range and launch plan). */
  readonly version?: string;
  readonly overwriteCache?: boolean;
}

export interface Backfill {
  readonly version: string;
  readonly ticks: Date[];
  readonly workflow: WorkflowCreateRequest;
}

/** A safe node id for a tick: b-20240101t0000z. */
const nodeId = (d: Date) => `b-${d.toISOString().slice(0, 16).replace(/[-:]/g, "").toLowerCase()}z`;

export function planBackfill(lp: LaunchPlan, o: BackfillOptions, project: string, domain: string): Backfill {
  const lpName = lp.id?.name ?? "";
  const schedule = lp.spec?.entityMetadata?.schedule;
  const expr = schedule?.ScheduleExpression;
  if (expr === undefined || expr.case === undefined)
    throw new Error(`launch plan ${lpName} has no schedule to backfill`);
  if (!(o.from.getTime() < o.to.getTime())) throw new Error("backfill needs from < to");
  const cron =
    expr.case === "rate"
      ? fixedRate(expr.value.value, expr.value.unit)
      : parseCron(expr.case === "cronSchedule" ? expr.value.schedule : expr.value);
  if (cron.kind === "every" && !(cron.ms > 0))
    throw new Error(`launch plan ${lpName} has an empty fixed rate`);
  const ticks = ticksBetween(cron, o.from, o.to);
  if (ticks.length === 0)
    throw new Error(
      `no schedule ticks of ${lpName} between ${o.from.toISOString()} and ${o.to.toISOString()}`,
    );
  // As Flyte's scheduler does: only cron schedules pass the tick as the kickoff input.
  const kickoff = expr.case === "rate" ? "" : (schedule?.kickoffTimeInputArg ?? "");
  const version =
    o.version ??
    createHash("md5")
      .update(`${o.from.toISOString()}-${o.to.toISOString()}-${lpName}-${lp.id?.version ?? ""}`)
      .digest("base64url");
  const nodes = ticks.map(
    (tick, i): MessageInitShape<typeof NodeSchema> => ({
      id: nodeId(tick),
      metadata: { name: nodeId(tick) },
      upstreamNodeIds: o.parallel === true || i === 0 ? [] : [nodeId(ticks[i - 1] as Date)],
      inputs:
        kickoff === ""
          ? []
          : [
              {
                var: kickoff,
                binding: {
                  value: {
                    case: "scalar",
                    value: {
                      value: {
                        case: "primitive",
                        value: { value: { case: "datetime", value: timestampFromDate(tick) } },
                      },
                    },
                  },
                },
              },
            ],
      target: { case: "workflowNode", value: { reference: { case: "launchplanRef", value: lp.id ?? {} } } },
    }),
  );
  const id = create(IdentifierSchema, {
    resourceType: ResourceType.WORKFLOW,
    project,
    domain,
    name: `backfill-${lpName}`,
    version,
  });
  const workflow = create(WorkflowCreateRequestSchema, {
    id,
    spec: { template: { id, interface: { inputs: {}, outputs: {} }, nodes } },
  });
  return { version, ticks, workflow };
}
