import { describe, expect, it } from "vitest";
import {
  CronError,
  fixedRate,
  MAX_INTERVAL_MS,
  nextFire,
  parseCron,
  parseIsoDuration,
  ticksBetween,
} from "../../common/cron.js";
import { FixedRateUnit } from "../../gen/flyteidl/admin/schedule_pb.js";
import { cronProblem } from "../../server/validation/cron.js";

const d = (s: string) => new Date(s);
const iso = (xs: Date[]) => xs.map((x) => x.toISOString());

describe("cron schedules", () => {
  it("list cron ticks strictly inside the range, in UTC", () => {
    expect(
      iso(ticksBetween(parseCron("0 3 * * *"), d("2026-01-01T03:00:00Z"), d("2026-01-03T03:00:00Z"))),
    ).toEqual(["2026-01-02T03:00:00.000Z"]);
    // Friday 27 Nov 2026 and Monday 30 Nov, every 20 minutes from 9:00 to 10:40.
    expect(
      ticksBetween(parseCron("*/20 9-10 * * MON-FRI"), d("2026-11-27T00:00:00Z"), d("2026-11-30T09:30:00Z")),
    ).toHaveLength(8);
    expect(
      ticksBetween(parseCron("@monthly"), d("2026-01-15T00:00:00Z"), d("2026-04-15T00:00:00Z")),
    ).toHaveLength(3);
    // Both day fields restricted: either matches (1 Feb is a Sunday and excluded by the range).
    expect(
      ticksBetween(parseCron("0 0 1 * 0"), d("2026-02-01T00:00:00Z"), d("2026-02-28T00:00:00Z")).map((x) =>
        x.getUTCDate(),
      ),
    ).toEqual([8, 15, 22]);
    expect(
      iso(ticksBetween(parseCron("5/20 0 1 jan *"), d("2026-01-01T00:00:00Z"), d("2026-01-02T00:00:00Z"))),
    ).toEqual(["2026-01-01T00:05:00.000Z", "2026-01-01T00:25:00.000Z", "2026-01-01T00:45:00.000Z"]);
  });

  it("find the next fire time quickly, even years away, and never for impossible dates", () => {
    expect(nextFire(parseCron("0 12 29 2 *"), d("2026-03-01T00:00:00Z"))?.toISOString()).toBe(
      "2028-02-29T12:00:00.000Z",
    );
    expect(nextFire(parseCron("0 0 30 2 *"), d("2026-01-01T00:00:00Z"))).toBeUndefined();
    const every = parseCron("@every 1h30m");
    const anchor = d("2026-01-01T00:00:00Z");
    expect(nextFire(every, d("2026-01-01T02:00:00Z"), anchor)?.toISOString()).toBe(
      "2026-01-01T03:00:00.000Z",
    );
    expect(ticksBetween(every, anchor, d("2026-01-01T06:00:00Z"))).toHaveLength(3);
  });

  it("explain invalid expressions the way Flyte's scheduler does", () => {
    expect(cronProblem("0 3 * * *")).toBeUndefined();
    expect(cronProblem("@every 5m")).toBeUndefined();
    expect(cronProblem("* * *")).toBe("expected exactly 5 fields, found 3: * * *");
    expect(cronProblem("61 * * * *")).toBe('value out of range in minute "61" (0-59)');
    expect(cronProblem("*/0 * * * *")).toBe('bad step in minute "*/0"');
    expect(cronProblem("@fortnightly")).toBe("unrecognized descriptor: @fortnightly");
    expect(cronProblem("@every soon")).toBe("failed to parse duration @every soon");
    expect(() => ticksBetween(parseCron("* * * * *"), d("2026-01-01"), d("2026-02-01"))).toThrow(CronError);
  });

  it("reject @every durations that are zero, unparseable or longer than ten years", () => {
    expect(cronProblem("@every 0s")).toBe("the @every duration must be positive: @every 0s");
    expect(cronProblem("@every 0h0m")).toBe("the @every duration must be positive: @every 0h0m");
    expect(cronProblem("@every -1h")).toBe("failed to parse duration @every -1h");
    expect(cronProblem("@every 87601h")).toBe("the @every duration is longer than 3650 days: @every 87601h");
    expect(cronProblem("@every 87600h")).toBeUndefined();
    expect(cronProblem("@every 1ns")).toBeUndefined(); // runs every second, as robfig/cron does
  });

  it("accept fixed rates of MINUTE, HOUR or DAY, positive and at most ten years", () => {
    expect(fixedRate(90, FixedRateUnit.MINUTE)).toEqual({ kind: "every", ms: 90 * 60_000 });
    expect(fixedRate(3650, FixedRateUnit.DAY)).toEqual({ kind: "every", ms: MAX_INTERVAL_MS });
    const problem = (value: number, unit: number) => {
      try {
        fixedRate(value, unit as FixedRateUnit);
        return undefined;
      } catch (err) {
        expect(err).toBeInstanceOf(CronError);
        return (err as Error).message;
      }
    };
    expect(problem(1, 99)).toBe("rate.unit 99 is not one of MINUTE, HOUR, DAY");
    expect(problem(0, FixedRateUnit.HOUR)).toBe("rate.value must be positive");
    expect(problem(4294967295, FixedRateUnit.DAY)).toBe(
      "rate.value 4294967295 DAY is longer than the maximum of 3650 days",
    );
    expect(problem(87601, FixedRateUnit.HOUR)).toBe(
      "rate.value 87601 HOUR is longer than the maximum of 3650 days",
    );
  });

  it("read cron offsets as ISO 8601 durations", () => {
    expect(parseIsoDuration("PT1H")).toBe(3_600_000);
    expect(parseIsoDuration("P1DT12H30M")).toBe(86_400_000 + 12.5 * 3_600_000);
    expect(parseIsoDuration("PT0.5S")).toBe(500);
    expect(parseIsoDuration("P2W")).toBe(14 * 86_400_000);
    expect(parseIsoDuration("P0D")).toBe(0);
    for (const bad of ["", "garbage", "P", "PT", "P1DT", "1H", "PT1H30", "P1.5DT2H", "-PT1H", "pt1h"])
      expect(() => parseIsoDuration(bad), bad).toThrow(CronError);
    expect(() => parseIsoDuration("P11Y")).toThrow('"P11Y" is longer than 3650 days');
  });

  it("refuse to compute a fire time that is not a date, instead of returning one", () => {
    const at = d("2026-01-01T00:00:00Z");
    expect(() => nextFire({ kind: "every", ms: 0 }, at)).toThrow(CronError);
    expect(() => nextFire({ kind: "every", ms: Number.NaN }, at)).toThrow(CronError);
    expect(() => nextFire({ kind: "every", ms: 4294967295 * 86_400_000 }, at)).toThrow(CronError);
    expect(() => nextFire(parseCron("@hourly"), new Date(Number.NaN))).toThrow(CronError);
  });
});
