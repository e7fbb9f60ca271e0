import { create, type MessageInitShape, toBinary } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Sort_Direction } from "../../gen/flyteidl/admin/common_pb.js";
import { LaunchPlanSpecSchema, LaunchPlanState } from "../../gen/flyteidl/admin/launch_plan_pb.js";
import { FixedRateUnit, ScheduleSchema } from "../../gen/flyteidl/admin/schedule_pb.js";
import { ResourceType } from "../../gen/flyteidl/core/identifier_pb.js";
import { type Literal, LiteralSchema } from "../../gen/flyteidl/core/literals_pb.js";
import {
  bind,
  datetimeType,
  intType,
  launchPlanId,
  literalInt,
  literalString,
  taskId,
  taskNode,
  taskTemplate,
  workflowId,
  workflowTemplate,
} from "../fixtures/flyte-builders.js";
import { expectCode } from "../support/expect-error.js";
import { startTestServer, type TestServer } from "../support/test-server.js";

let t: TestServer;
const P = { project: "flytesnacks", domain: "development" };

const wf = (name: string, version: string) =>
  workflowTemplate({
    id: workflowId(name, version),
    inputs: { x: intType(), y: intType(), when: datetimeType() },
    outputs: { o: intType() },
    nodes: [taskNode("n0", taskId("add"), [bind("a", "", "x"), bind("b", "", "y")])],
    outputBindings: [bind("o", "n0", "o")],
  });

beforeAll(async () => {
  t = await startTestServer();
  await t.admin.registerProject({ project: { id: "flytesnacks", name: "flytesnacks" } });
  await t.admin.createTask({
    id: taskId("add"),
    spec: { template: taskTemplate({ inputs: { a: intType(), b: intType() }, outputs: { o: intType() } }) },
  });
  await t.admin.createWorkflow({ id: workflowId("wf", "v1"), spec: { template: wf("wf", "v1") } });
});
afterAll(async () => {
  await t?.stop();
});

describe("launch plans", () => {
  it("a flytekit-shaped registration: task, workflow, default launch plan, fetch latest, activate", async () => {
    await t.admin.createTask({
      id: taskId("double", "abc"),
      spec: { template: taskTemplate({ inputs: { a: intType() }, outputs: { o: intType() } }) },
    });
    const template = workflowTemplate({
      id: workflowId("my.wf", "abc"),
      inputs: { a: intType() },
      outputs: { o: intType() },
      nodes: [taskNode("n0", taskId("double", "abc"), [bind("a", "", "a")])],
      outputBindings: [bind("o", "n0", "o")],
    });
    await t.admin.createWorkflow({ id: workflowId("my.wf", "abc"), spec: { template } });
    await t.admin.createLaunchPlan({
      id: launchPlanId("my.wf", "abc"),
      spec: {
        workflowId: workflowId("my.wf", "abc"),
        defaultInputs: {
          parameters: {
            a: { var: { type: intType() }, behavior: { case: "default", value: literalInt(3) } },
          },
        },
      },
    });
    // flytekit's "latest": list with created_at DESC, limit 1, then get.
    const latest = await t.admin.listLaunchPlans({
      id: { ...P, name: "my.wf" },
      limit: 1,
      sortBy: { key: "created_at", direction: Sort_Direction.DESCENDING },
    });
    const version = latest.launchPlans[0]?.id?.version;
    expect(version).toBe("abc");
    const lp = await t.admin.getLaunchPlan({ id: launchPlanId("my.wf", version) });
    expect(lp.closure?.state).toBe(LaunchPlanState.INACTIVE);
    expect(lp.closure?.expectedInputs?.parameters.a?.behavior.case).toBe("default");
    expect(Object.keys(lp.closure?.expectedOutputs?.variables ?? {})).toEqual(["o"]);
    await t.admin.updateLaunchPlan({ id: launchPlanId("my.wf", "abc"), state: LaunchPlanState.ACTIVE });
    const active = await t.admin.getActiveLaunchPlan({ id: { ...P, name: "my.wf" } });
    expect(active.id?.version).toBe("abc");
    expect(active.closure?.state).toBe(LaunchPlanState.ACTIVE);
    await expectCode(
      t.admin.createLaunchPlan({ id: launchPlanId("my.wf", "abc"), spec: lp.spec }),
      Code.AlreadyExists,
      "launch plan with identical structure already exists",
    );
  });

  it("rewrites default_inputs to the expected inputs (defaults, fixed skipped, the rest required)", async () => {
    const id = launchPlanId("lp.expected");
    await t.admin.createLaunchPlan({
      id,
      spec: {
        workflowId: workflowId("wf", "v1"),
        defaultInputs: {
          parameters: {
            x: { var: { type: intType() }, behavior: { case: "default", value: literalInt(1) } },
          },
        },
        fixedInputs: { literals: { y: literalInt(2) } },
      },
    });
    const lp = await t.grpcJs.unary("getLaunchPlan", {
      id: { ...id, resourceType: ResourceType.UNSPECIFIED },
    });
    const params = lp.spec?.defaultInputs?.parameters ?? {};
    expect(Object.keys(params).sort()).toEqual(["when", "x"]);
    expect(params.when?.behavior).toEqual({ case: "required", value: true });
    expect(lp.closure?.expectedInputs?.parameters.x?.behavior.case).toBe("default");
  });

  it("validates inputs, schedules and notifications with Flyte's messages", async () => {
    const id = launchPlanId("lp.bad");
    const base = { workflowId: workflowId("wf", "v1") };
    await expectCode(t.admin.createLaunchPlan({ id }), Code.InvalidArgument, "missing spec");
    await expectCode(
      t.admin.createLaunchPlan({ id, spec: { workflowId: workflowId("ghost", "v1") } }),
      Code.NotFound,
      /^missing entity of type WORKFLOW with identifier/,
    );
    await expectCode(
      t.admin.createLaunchPlan({ id, spec: { ...base, fixedInputs: { literals: { zz: literalInt(1) } } } }),
      Code.InvalidArgument,
      "unexpected fixed_input zz",
    );
    await expectCode(
      t.admin.createLaunchPlan({
        id,
        spec: { ...base, fixedInputs: { literals: { x: literalString("no") } } },
      }),
      Code.InvalidArgument,
      /^invalid fixed_input wrong type x, expected /,
    );
    await expectCode(
      t.admin.createLaunchPlan({
        id,
        spec: {
          ...base,
          defaultInputs: {
            parameters: { zz: { var: { type: intType() }, behavior: { case: "required", value: true } } },
          },
        },
      }),
      Code.InvalidArgument,
      "unexpected default_input zz",
    );
    await expectCode(
      t.admin.createLaunchPlan({
        id,
        spec: { ...base, defaultInputs: { parameters: { x: { var: { type: intType() } } } } },
      }),
      Code.InvalidArgument,
      "Invalid variable x in default_inputs - variable has neither default, nor is required. One must be specified",
    );
    await expectCode(
      t.admin.createLaunchPlan({
        id,
        spec: {
          ...base,
          defaultInputs: { parameters: { x: { behavior: { case: "required", value: true } } } },
        },
      }),
      Code.InvalidArgument,
      "The Variable component of the Parameter x in default_inputs either is missing, or has a missing Type",
    );
    const scheduled = (kickoff: string, cron = "0 * * * *") => ({
      ...base,
      fixedInputs: { literals: { x: literalInt(1), y: literalInt(2) } },
      entityMetadata: {
        schedule: {
          kickoffTimeInputArg: kickoff,
          ScheduleExpression: { case: "cronSchedule" as const, value: { schedule: cron } },
        },
      },
    });
    await expectCode(
      t.admin.createLaunchPlan({ id, spec: scheduled("") }),
      Code.InvalidArgument,
      "Cannot create a launch plan with a schedule if there is an unbound required input. [when] is required",
    );
    await expectCode(
      t.admin.createLaunchPlan({ id, spec: scheduled("when", "61 * * * *") }),
      Code.InvalidArgument,
      /^Invalid cron expression: /,
    );
    await t.admin.createLaunchPlan({ id: launchPlanId("lp.scheduled"), spec: scheduled("when", "@hourly") });
    const lp = await t.admin.getLaunchPlan({ id: launchPlanId("lp.scheduled") });
    expect(lp.spec?.entityMetadata?.schedule?.kickoffTimeInputArg).toBe("when");
    await expectCode(
      t.admin.createLaunchPlan({
        id,
        spec: {
          ...base,
          entityMetadata: {
            notifications: [{ phases: [4], type: { case: "email", value: { recipientsEmail: [] } } }],
          },
        },
      }),
      Code.InvalidArgument,
      "missing recipients",
    );
    await expectCode(
      t.admin.createLaunchPlan({
        id,
        spec: {
          ...base,
          entityMetadata: {
            notifications: [{ phases: [2], type: { case: "slack", value: { recipientsEmail: ["a@b.c"] } } }],
          },
        },
      }),
      Code.InvalidArgument,
      "invalid value for phase",
    );
  });

  it("activation swaps the active version, also under concurrency", async () => {
    const versions = ["a1", "a2", "a3", "a4", "a5"];
    for (const v of versions) {
      await t.admin.createLaunchPlan({
        id: launchPlanId("lp.swap", v),
        spec: {
          workflowId: workflowId("wf", "v1"),
          fixedInputs: { literals: { x: literalInt(Number(v.slice(1))) } },
        },
      });
    }
    await t.admin.updateLaunchPlan({ id: launchPlanId("lp.swap", "a1"), state: LaunchPlanState.ACTIVE });
    await t.admin.updateLaunchPlan({ id: launchPlanId("lp.swap", "a2"), state: LaunchPlanState.ACTIVE });
    expect((await t.admin.getActiveLaunchPlan({ id: { ...P, name: "lp.swap" } })).id?.version).toBe("a2");
    await Promise.all(
      versions.map((v) =>
        t.admin.updateLaunchPlan({ id: launchPlanId("lp.swap", v), state: LaunchPlanState.ACTIVE }),
      ),
    );
    const active = await t.admin.listActiveLaunchPlans({ ...P, limit: 100 });
    expect(active.launchPlans.filter((l) => l.id?.name === "lp.swap")).toHaveLength(1);
    const current = await t.admin.getActiveLaunchPlan({ id: { ...P, name: "lp.swap" } });
    await t.admin.updateLaunchPlan({ id: current.id, state: LaunchPlanState.INACTIVE });
    await expectCode(
      t.admin.getActiveLaunchPlan({ id: { ...P, name: "lp.swap" } }),
      Code.NotFound,
      "No active launch plan could be found: flytesnacks:development:lp.swap",
    );
    await expectCode(
      t.admin.updateLaunchPlan({ id: launchPlanId("lp.swap", "a1"), state: 7 as LaunchPlanState }),
      Code.InvalidArgument,
      /^Unrecognized launch plan state 7 for update for launch plan \[/,
    );
    await expectCode(
      t.admin.updateLaunchPlan({ id: launchPlanId("lp.swap", "zz"), state: LaunchPlanState.ACTIVE }),
      Code.NotFound,
      /^missing entity of type LAUNCH_PLAN/,
    );
  });

  it("lists with workflow join filters and distinct names", async () => {
    const byWf = await t.admin.listLaunchPlans({ id: P, limit: 100, filters: "eq(workflow.name,my.wf)" });
    expect(byWf.launchPlans.map((l) => l.id?.name)).toEqual(["my.wf"]);
    const ids = await t.admin.listLaunchPlanIds({ ...P, limit: 100 });
    expect(ids.entities.map((e) => e.name)).toEqual(["lp.expected", "lp.scheduled", "lp.swap", "my.wf"]);
    await expectCode(
      t.admin.getActiveLaunchPlan({ id: { ...P, name: "" } }),
      Code.InvalidArgument,
      "missing name",
    );
  });

  it("rejects schedules the scheduler cannot run, naming the field, at creation and at activation", async () => {
    const id = launchPlanId("lp.badsched");
    const when = create(LiteralSchema, {
      value: {
        case: "scalar",
        value: {
          value: { case: "primitive", value: { value: { case: "datetime", value: { seconds: 0n } } } },
        },
      },
    });
    type ScheduleInit = MessageInitShape<typeof ScheduleSchema>;
    const withSchedule = (schedule: ScheduleInit, fixed: Record<string, Literal> = { when }) => ({
      workflowId: workflowId("wf", "v1"),
      fixedInputs: { literals: { x: literalInt(1), y: literalInt(2), ...fixed } },
      entityMetadata: { schedule: create(ScheduleSchema, schedule) },
    });
    const rate = (value: number, unit: number) =>
      withSchedule({ ScheduleExpression: { case: "rate", value: { value, unit: unit as FixedRateUnit } } });
    const cron = (schedule: string, offset = "") =>
      withSchedule({
        ScheduleExpression: { case: "cronSchedule", value: { schedule, offset } },
      });
    const rejects = (spec: object, message: string | RegExp) =>
      expectCode(t.admin.createLaunchPlan({ id, spec }), Code.InvalidArgument, message);

    // (An unknown enum number may already be refused where requests are decoded; either way the field is named.)
    await rejects(rate(1, 99), /rate\.unit\b.* 99 is not /);
    await rejects(
      rate(4294967295, FixedRateUnit.DAY),
      "Invalid fixed rate: rate.value 4294967295 DAY is longer than the maximum of 3650 days",
    );
    await rejects(rate(0, FixedRateUnit.MINUTE), "Invalid fixed rate: rate.value must be positive");
    await rejects(
      cron("@every 0s"),
      "Invalid cron expression: the @every duration must be positive: @every 0s",
    );
    await rejects(
      cron("@hourly", "garbage"),
      'Invalid cron_schedule.offset: "garbage" is not an ISO 8601 duration (such as PT1H or P1DT12H)',
    );
    const rateWithKickoff = withSchedule(
      {
        kickoffTimeInputArg: "when",
        ScheduleExpression: { case: "rate", value: { value: 1, unit: FixedRateUnit.HOUR } },
      },
      {},
    );
    await rejects(
      rateWithKickoff,
      "Invalid schedule: kickoff_time_input_arg [when] is required, but fixed-rate schedules do not set the kickoff time; give it a default or use a cron_schedule",
    );
    await rejects(
      withSchedule({
        kickoffTimeInputArg: "nope",
        ScheduleExpression: { case: "cronSchedule", value: { schedule: "@daily", offset: "" } },
      }),
      "Cannot create a schedule with a KickoffTimeInputArg that does not point to a free input. [nope] is not free or does not exist.",
    );
    await expectCode(t.admin.getLaunchPlan({ id }), Code.NotFound);

    // Valid ones pass: an offset that is an ISO 8601 duration, a rate of ten years.
    await t.admin.createLaunchPlan({
      id: launchPlanId("lp.goodsched", "o"),
      spec: cron("@hourly", "P1DT2H"),
    });
    await t.admin.createLaunchPlan({
      id: launchPlanId("lp.goodsched", "r"),
      spec: rate(3650, FixedRateUnit.DAY),
    });
    await t.admin.updateLaunchPlan({ id: launchPlanId("lp.goodsched", "r"), state: LaunchPlanState.ACTIVE });

    // A stored schedule that predates the checks (or was edited by hand) cannot be activated.
    const edited = launchPlanId("lp.goodsched", "edited");
    await t.admin.createLaunchPlan({ id: edited, spec: rate(5, FixedRateUnit.HOUR) });
    const spec = (await t.admin.getLaunchPlan({ id: edited })).spec;
    const schedule = spec?.entityMetadata?.schedule;
    if (spec === undefined || schedule?.ScheduleExpression.case !== "rate") throw new Error("no rate stored");
    schedule.ScheduleExpression.value.unit = 99 as FixedRateUnit;
    await t.server
      .db("launch_plans")
      .where({ name: "lp.goodsched", version: "edited" })
      .update({ spec: Buffer.from(toBinary(LaunchPlanSpecSchema, spec)) });
    await expectCode(
      t.admin.updateLaunchPlan({ id: edited, state: LaunchPlanState.ACTIVE }),
      Code.InvalidArgument,
      "Invalid fixed rate: rate.unit 99 is not one of MINUTE, HOUR, DAY",
    );
    expect((await t.admin.getActiveLaunchPlan({ id: { ...P, name: "lp.goodsched" } })).id?.version).toBe("r");

    // The deprecated cron_expression registers (as in Flyte) but the native scheduler cannot run it.
    const legacy = launchPlanId("lp.goodsched", "legacy");
    await t.admin.createLaunchPlan({
      id: legacy,
      spec: withSchedule({
        ScheduleExpression: { case: "cronExpression", value: "0 * * * *" },
      }),
    });
    await expectCode(
      t.admin.updateLaunchPlan({ id: legacy, state: LaunchPlanState.ACTIVE }),
      Code.InvalidArgument,
      "Invalid schedule: the deprecated cron_expression is not supported by the native scheduler; use cron_schedule",
    );
  });
});
