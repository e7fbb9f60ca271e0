// The native scheduler: active launch plans with cron or fixed-rate schedules launch executions by themselves.
// Time passing is simulated by moving the schedule's state back, as if the server had been down.
import { create, type MessageInitShape, toBinary } from "@bufbuild/protobuf";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type Execution,
  ExecutionMetadata_ExecutionMode as Mode,
} from "../../gen/flyteidl/admin/execution_pb.js";
import { LaunchPlanSpecSchema, LaunchPlanState } from "../../gen/flyteidl/admin/launch_plan_pb.js";
import { FixedRateUnit, ScheduleSchema } from "../../gen/flyteidl/admin/schedule_pb.js";
import { WorkflowExecution_Phase as W } from "../../gen/flyteidl/core/execution_pb.js";
import { NEVER, SCHEDULE_CHANNEL } from "../../server/repositories/schedule-repo.js";
import {
  bind,
  datetimeType,
  launchPlanId,
  taskId,
  taskNode,
  taskTemplate,
  workflowId,
  workflowTemplate,
} from "../fixtures/flyte-builders.js";
import { eventually } from "../support/eventually.js";
import { startTestServer, type TestServer } from "../support/test-server.js";

let t: TestServer;
const P = { project: "sched", domain: "development" };

async function scheduledLaunchPlan(name: string, schedule: object) {
  await t.admin.createLaunchPlan({
    id: launchPlanId(name, "v1", "sched"),
    spec: { workflowId: workflowId("stamp", "v1", "sched"), entityMetadata: { schedule } },
  });
  await t.admin.updateLaunchPlan({ id: launchPlanId(name, "v1", "sched"), state: LaunchPlanState.ACTIVE });
}

const listFor = async (lp: string) =>
  (await t.admin.listExecutions({ id: P, limit: 100, filters: `eq(launch_plan.name,${lp})` })).executions;

/** Waits until the scheduler holds state for the launch plan (or, with `present` false, no longer does). */
const stateOf = (lp: string, present = true) =>
  eventually(
    () =>
      t.server
        .db("schedule_states as s")
        .join("launch_plans as l", "l.id", "s.launch_plan_id")
        .where({ "l.project": "sched", "l.name": lp })
        .select("s.next_fire_at"),
    (rows) => rows.length === (present ? 1 : 0),
  );

/** Pretends the schedule was activated `minutes` ago (first fire `firstAfterMs` later) and nothing ran since. */
async function rewind(lp: string, minutes: number, firstAfterMs: number) {
  const ago = new Date(Math.floor(Date.now() / 60_000) * 60_000 - minutes * 60_000);
  await t.server.db.raw(
    `UPDATE schedule_states s SET anchor_at = ?, next_fire_at = ? FROM launch_plans l
     WHERE l.id = s.launch_plan_id AND l.project = 'sched' AND l.name = ?`,
    [ago, new Date(ago.getTime() + firstAfterMs), lp],
  );
  // Any activation wakes the scheduler at once (re-activating is a no-op otherwise).
  await t.admin.updateLaunchPlan({ id: launchPlanId(lp, "v1", "sched"), state: LaunchPlanState.ACTIVE });
  return ago;
}

const scheduledAt = (e: Execution) => {
  const at = e.spec?.metadata?.scheduledAt;
  return at === undefined ? new Date(0) : timestampDate(at);
};

beforeAll(async () => {
  t = await startTestServer();
  await t.admin.registerProject({ project: { id: "sched", name: "sched" } });
  await t.admin.createTask({
    id: taskId("echo", "v1", "sched"),
    spec: {
      template: taskTemplate({ type: "echo", inputs: { a: datetimeType() }, outputs: { a: datetimeType() } }),
    },
  });
  await t.admin.createWorkflow({
    id: workflowId("stamp", "v1", "sched"),
    spec: {
      template: workflowTemplate({
        inputs: { kickoff: datetimeType() },
        outputs: { at: datetimeType() },
        nodes: [taskNode("n0", taskId("echo", "v1", "sched"), [bind("a", "", "kickoff")])],
        outputBindings: [bind("at", "n0", "a")],
      }),
    },
  });
}, 60_000);
afterAll(async () => {
  await t?.stop();
});

describe("the scheduler", () => {
  it("launches a cron launch plan once per missed minute with the fire time as kickoff input", async () => {
    await scheduledLaunchPlan("minutely", {
      ScheduleExpression: { case: "cronSchedule", value: { schedule: "* * * * *" } },
      kickoffTimeInputArg: "kickoff",
    });
    await stateOf("minutely");
    const since = await rewind("minutely", 3, 60_000);
    const runs = await eventually(
      () => listFor("minutely"),
      (e) => e.length >= 3,
      20_000,
    );
    const fires = runs.map((e) => scheduledAt(e).getTime()).sort();
    expect(fires.slice(0, 3)).toEqual([1, 2, 3].map((m) => since.getTime() + m * 60_000));
    for (const e of runs) {
      expect(e.spec?.metadata?.mode).toBe(Mode.SCHEDULED);
      expect(e.id?.name).toMatch(/^f[0-9a-f]{19}$/);
    }
    const done = await eventually(
      () => t.admin.getExecution({ id: runs[0]?.id }),
      (e) => e.closure?.phase === W.SUCCEEDED,
      20_000,
    );
    const out = (await t.admin.getExecutionData({ id: done.id })).fullOutputs?.literals.at;
    const v = out?.value.case === "scalar" ? out.value.value.value : undefined;
    const at =
      v?.case === "primitive" && v.value.value.case === "datetime"
        ? timestampDate(v.value.value.value)
        : undefined;
    expect(at?.getTime()).toBe(scheduledAt(done).getTime());

    // Replaying the same fires (a crash before the state advanced) creates no duplicates: one execution per
    // fire time (a new minute may legitimately fire meanwhile).
    const before = new Set(runs.map((e) => e.id?.name));
    await rewind("minutely", 3, 60_000);
    await new Promise((r) => setTimeout(r, 1_000));
    const after = await listFor("minutely");
    const times = after.map((e) => scheduledAt(e).getTime());
    expect(new Set(times).size).toBe(times.length);
    for (const name of before) expect(after.map((e) => e.id?.name)).toContain(name);

    // Deactivated: the state goes away and nothing more fires.
    await t.admin.updateLaunchPlan({
      id: launchPlanId("minutely", "v1", "sched"),
      state: LaunchPlanState.INACTIVE,
    });
    await stateOf("minutely", false);
  }, 60_000);

  it("launches fixed-rate launch plans without a kickoff input (defaults apply)", async () => {
    await t.admin.createLaunchPlan({
      id: launchPlanId("hourly", "v1", "sched"),
      spec: {
        workflowId: workflowId("stamp", "v1", "sched"),
        entityMetadata: {
          schedule: { ScheduleExpression: { case: "rate", value: { value: 1, unit: FixedRateUnit.HOUR } } },
        },
        defaultInputs: {
          parameters: {
            kickoff: {
              var: { type: datetimeType() },
              behavior: {
                case: "default",
                value: {
                  value: {
                    case: "scalar",
                    value: {
                      value: {
                        case: "primitive",
                        value: { value: { case: "datetime", value: { seconds: 0n, nanos: 0 } } },
                      },
                    },
                  },
                },
              },
            },
          },
        },
      },
    });
    await t.admin.updateLaunchPlan({
      id: launchPlanId("hourly", "v1", "sched"),
      state: LaunchPlanState.ACTIVE,
    });
    await stateOf("hourly");
    await rewind("hourly", 150, 3_600_000);
    const runs = await eventually(
      () => listFor("hourly"),
      (e) => e.length >= 2,
      20_000,
    );
    expect(runs).toHaveLength(2);
    const data = await t.admin.getExecutionData({ id: runs[0]?.id });
    expect(Object.keys(data.fullInputs?.literals ?? {})).toEqual(["kickoff"]);
  }, 60_000);

  it("survives stored schedules it cannot run: they are disabled, every other schedule keeps firing", async () => {
    /** Replaces the launch plan's stored schedule straight in the database (no validation). */
    async function rewriteSchedule(name: string, schedule: MessageInitShape<typeof ScheduleSchema>) {
      const spec = (await t.admin.getLaunchPlan({ id: launchPlanId(name, "v1", "sched") })).spec;
      if (spec?.entityMetadata === undefined) throw new Error("no spec stored");
      spec.entityMetadata.schedule = create(
        ScheduleSchema,
        schedule as MessageInitShape<typeof ScheduleSchema>,
      );
      await t.server
        .db("launch_plans")
        .where({ project: "sched", name })
        .update({ spec: Buffer.from(toBinary(LaunchPlanSpecSchema, spec)) });
    }
    type ScheduleInit = MessageInitShape<typeof ScheduleSchema>;
    const rate = (value: number, unit: number): ScheduleInit => ({
      ScheduleExpression: { case: "rate", value: { value, unit: unit as FixedRateUnit } },
    });
    const cron = (schedule: string): ScheduleInit => ({
      ScheduleExpression: { case: "cronSchedule", value: { schedule } },
    });
    const bad: Record<string, ScheduleInit> = {
      "bad-unit": rate(1, 99),
      "bad-huge": rate(4294967295, FixedRateUnit.DAY),
      "bad-zero": rate(0, FixedRateUnit.MINUTE),
      "bad-every": cron("@every 0s"),
      "bad-text": cron("not a cron"),
      "bad-legacy": { ScheduleExpression: { case: "cronExpression", value: "0 * * * *" } },
    };
    // Stored and activated as if before validation existed: registered with a good schedule, then rewritten.
    for (const [name, schedule] of Object.entries(bad)) {
      await t.admin.createLaunchPlan({
        id: launchPlanId(name, "v1", "sched"),
        spec: {
          workflowId: workflowId("stamp", "v1", "sched"),
          entityMetadata: { schedule: { ...cron("@yearly"), kickoffTimeInputArg: "kickoff" } },
        },
      });
      await rewriteSchedule(name, schedule);
      await t.server.db("launch_plans").where({ project: "sched", name }).update({ state: 1 });
    }
    // And one whose stored spec cannot even be decoded.
    await t.admin.createLaunchPlan({
      id: launchPlanId("bad-bytes", "v1", "sched"),
      spec: {
        workflowId: workflowId("stamp", "v1", "sched"),
        entityMetadata: { schedule: { ...cron("@yearly"), kickoffTimeInputArg: "kickoff" } },
      },
    });
    await t.server
      .db("launch_plans")
      .where({ project: "sched", name: "bad-bytes" })
      .update({ spec: Buffer.from([0xff, 0xff, 0xff, 0xff]), state: 1 });
    // One that ran fine until its row was edited by hand, and is due now.
    await scheduledLaunchPlan("edited", { ...cron("@hourly"), kickoffTimeInputArg: "kickoff" });
    await stateOf("edited");
    await rewriteSchedule("edited", rate(1, 99));
    await t.server.db.raw(
      `UPDATE schedule_states s SET next_fire_at = now() - interval '1 minute' FROM launch_plans l
       WHERE l.id = s.launch_plan_id AND l.project = 'sched' AND l.name = 'edited'`,
    );
    await t.server.db.raw("SELECT pg_notify(?, '')", [SCHEDULE_CHANNEL]);

    // A good schedule, activated alongside, still fires every missed minute.
    await scheduledLaunchPlan("good", { ...cron("* * * * *"), kickoffTimeInputArg: "kickoff" });
    await stateOf("good");
    const since = await rewind("good", 3, 60_000);
    const runs = await eventually(
      () => listFor("good"),
      (e) => e.length >= 3,
      20_000,
    );
    expect(
      runs
        .map((e) => scheduledAt(e).getTime())
        .sort()
        .slice(0, 3),
    ).toEqual([1, 2, 3].map((m) => since.getTime() + m * 60_000));

    // Each bad one is parked (it never fires) and launched nothing.
    for (const name of [...Object.keys(bad), "bad-bytes", "edited"]) {
      const [state] = await stateOf(name);
      expect(state?.next_fire_at, name).toEqual(NEVER);
      expect(await listFor(name), name).toEqual([]);
    }
  }, 60_000);
});
