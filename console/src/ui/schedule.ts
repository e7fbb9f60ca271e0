// A launch plan's schedule in words.
import { FixedRateUnit, type Schedule } from "../../../gen/flyteidl/admin/schedule_pb.js";

const UNITS: Record<number, string> = {
  [FixedRateUnit.MINUTE]: "minute",
  [FixedRateUnit.HOUR]: "hour",
  [FixedRateUnit.DAY]: "day",
};

/** "cron 0 * * * *", "every 5 minutes"; undefined when there is no schedule. */
export function scheduleText(s: Schedule | undefined): string | undefined {
  const e = s?.ScheduleExpression;
  if (e === undefined || e.case === undefined) return undefined;
  let text: string;
  if (e.case === "cronExpression") text = `cron ${e.value}`;
  else if (e.case === "cronSchedule")
    text = `cron ${e.value.schedule}${e.value.offset ? ` (offset ${e.value.offset})` : ""}`;
  else {
    const unit = UNITS[e.value.unit] ?? "unit";
    text = e.value.value === 1 ? `every ${unit}` : `every ${e.value.value} ${unit}s`;
  }
  return s?.kickoffTimeInputArg ? `${text}, kickoff time in input ${s.kickoffTimeInputArg}` : text;
}
