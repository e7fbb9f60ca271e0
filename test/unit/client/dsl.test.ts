import { fromBinary, toBinary } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import {
  approve,
  conditional,
  DslError,
  launchPlan,
  literalOf,
  map,
  serialize,
  sleep,
  TypeMismatchError,
  t,
  task,
  valueFrom,
  waitForInput,
  workflow,
} from "../../../client/index.js";
import { LiteralSchema } from "../../../gen/flyteidl/core/literals_pb.js";

const where = { project: "p", domain: "d" };

describe("t.* types", () => {
  it("round-trip TS values through Flyte literals (also through the wire)", () => {
    const cases: [Parameters<typeof literalOf>[0], unknown][] = [
      [t.int, 42],
      [t.float, 2.5],
      [t.string, "hé"],
      [t.bool, false],
      [t.datetime, new Date("2026-03-01T12:34:56.789Z")],
      [t.duration, 90_500],
      [t.binary, new Uint8Array([0, 1, 254])],
      [t.struct, { a: 1, nested: { b: [true, "x"] } }],
      [t.file, "s3://bucket/a.csv"],
      [t.directory, "s3://bucket/dir/"],
      [t.list(t.int), [1, 2, 3]],
      [t.map(t.list(t.string)), { a: ["x"], b: [] }],
      [t.enum(["red", "green"] as const), "green"],
      [t.optional(t.int), 7],
      [t.optional(t.int), null],
      [t.union(t.int, t.string), "seven"],
      [t.union(t.int, t.string), 7],
    ];
    for (const [type, v] of cases) {
      const lit = literalOf(type, v);
      expect(valueFrom(type, lit), type.description).toEqual(v);
      const wire = fromBinary(LiteralSchema, toBinary(LiteralSchema, lit));
      expect(valueFrom(type, wire), type.description).toEqual(v);
    }
  });

  it("reject values of the wrong type with the input's name", () => {
    expect(() => literalOf(t.int, 1.5 as never, "count")).toThrow(TypeMismatchError);
    expect(() => literalOf(t.int, 1.5 as never, "count")).toThrow(/count: expected an integer/);
    expect(() => literalOf(t.enum(["a"]), "b" as never)).toThrow(/one of a/);
    expect(() => literalOf(t.list(t.string), [1] as never, "xs")).toThrow(/xs\[0\]: expected a string/);
    expect(() => t.enum([])).toThrow(TypeError);
  });
});

const inc = task({ name: "inc", inputs: { a: t.int }, outputs: { o: t.int } }, ({ a }) => ({ o: a + 1 }));

describe("workflow definitions", () => {
  it("become Flyte templates: nodes in call order, bindings, gates, branches and array nodes", () => {
    const wf = workflow(
      {
        name: "shape",
        inputs: { x: t.int, xs: t.list(t.int) },
        outputs: { a: t.int, b: t.list(t.int), c: t.string },
      },
      ({ x, xs }) => {
        const one = inc({ a: x });
        const ok = approve("ok", one.o, { timeout: "5m" });
        const b = conditional("pick")
          .if(ok.gt(3).and(x.lt(100)), () => inc({ a: ok }))
          .fail("too small");
        const wait = sleep("1s", { after: [b] });
        const s = waitForInput("s", t.string, { after: [wait] });
        return { a: b.o, b: map(inc, { minSuccessRatio: 0.5 })({ a: xs }).o, c: s };
      },
    );
    const reg = serialize([wf], { ...where, version: "v1" });
    expect(reg.steps.map((s) => Object.keys(s)[0])).toEqual(["task", "workflow", "launchPlan"]);
    const tpl = reg.workflows[0]?.spec?.template;
    expect(tpl?.nodes.map((n) => [n.id, n.target.case])).toEqual([
      ["n0", "taskNode"],
      ["n1", "gateNode"],
      ["pick", "branchNode"],
      ["n2", "gateNode"],
      ["n3", "gateNode"],
      ["n4", "arrayNode"],
    ]);
    const [n0, gate, pick, nap, signal] = tpl?.nodes ?? [];
    expect(n0?.inputs[0]?.binding?.value).toEqual(expect.objectContaining({ case: "promise" }));
    const ref = n0?.target.case === "taskNode" ? n0.target.value.reference.value : undefined;
    expect(ref).toEqual(expect.objectContaining({ project: "p", domain: "d", name: "inc", version: "v1" }));
    expect(gate?.metadata?.timeout?.seconds).toBe(300n);
    expect(pick?.inputs.map((b) => b.var)).toEqual(["c0", "c1"]);
    const ie = pick?.target.case === "branchNode" ? pick.target.value.ifElse : undefined;
    expect(ie?.default).toEqual({ case: "error", value: expect.objectContaining({ message: "too small" }) });
    const thenRef =
      ie?.case?.thenNode?.target.case === "taskNode"
        ? ie.case.thenNode.target.value.reference.value
        : undefined;
    expect(thenRef?.version).toBe("v1");
    expect(nap?.upstreamNodeIds).toEqual(["pick"]);
    expect(signal?.upstreamNodeIds).toEqual(["n2"]);
    expect(tpl?.outputs.map((b) => [b.var, b.binding?.value.case])).toEqual([
      ["a", "promise"],
      ["b", "promise"],
      ["c", "promise"],
    ]);
  });

  it("derive the version from the content: same definitions, same version; any change, a new one", () => {
    const a = workflow({ name: "w", inputs: { x: t.int }, outputs: { o: t.int } }, ({ x }) => ({
      o: inc({ a: x }).o,
    }));
    const b = workflow({ name: "w", inputs: { x: t.int }, outputs: { o: t.int } }, ({ x }) => ({
      o: inc({ a: x }).o,
    }));
    const c = workflow({ name: "w", inputs: { x: t.int }, outputs: { o: t.int } }, ({ x }) => ({
      o: inc({ a: inc({ a: x }).o }).o,
    }));
    expect(serialize([a], where).version).toBe(serialize([b], where).version);
    expect(serialize([a], where).version).not.toBe(serialize([c], where).version);
  });

  it("order launch plans before the workflows that call them and embed sub-workflows", () => {
    const inner = workflow({ name: "inner", inputs: { a: t.int }, outputs: { o: t.int } }, ({ a }) => ({
      o: inc({ a }).o,
    }));
    const lp = launchPlan({
      workflow: inner,
      name: "inner-lp",
      fixedInputs: { a: 1 },
      schedule: { cron: "@daily" },
    });
    const outer = workflow(
      { name: "outer", inputs: { a: t.int }, outputs: { x: t.int, y: t.int } },
      ({ a }) => ({
        x: inner({ a }).o,
        y: lp({}).o,
      }),
    );
    const reg = serialize([outer], { ...where, version: "v" });
    const names = reg.steps.map((s) =>
      "task" in s
        ? `task ${s.task.id?.name}`
        : "workflow" in s
          ? `wf ${s.workflow.id?.name}`
          : `lp ${s.launchPlan.id?.name}`,
    );
    expect(names).toEqual(["task inc", "wf inner", "lp inner", "lp inner-lp", "wf outer", "lp outer"]);
    const outerWf = reg.workflows.find((w) => w.id?.name === "outer");
    expect(outerWf?.spec?.subWorkflows.map((s) => s.id?.name)).toEqual(["inner"]);
    const lpReq = reg.launchPlans.find((l) => l.id?.name === "inner-lp");
    expect(Object.keys(lpReq?.spec?.fixedInputs?.literals ?? {})).toEqual(["a"]);
    expect(lpReq?.spec?.entityMetadata?.schedule?.ScheduleExpression.case).toBe("cronSchedule");
    expect(() => lp({ a: 2 } as never)).toThrow(/inside a workflow body/);
  });

  it("let a launch plan named like its workflow replace the workflow's default launch plan", () => {
    const inc = task({ name: "inc", inputs: { a: t.int }, outputs: { o: t.int } }, ({ a }) => ({ o: a + 1 }));
    const wf = workflow({ name: "flow", inputs: { x: t.int }, outputs: { y: t.int } }, ({ x }) => ({
      y: inc({ a: x }).o,
    }));
    const where = { project: "p", domain: "d", version: "v1" };
    expect(serialize([wf], where).launchPlans.map((lp) => [lp.id?.name, lp.spec?.labels])).toEqual([
      ["flow", undefined],
    ]);
    const named = launchPlan({ name: "flow", workflow: wf, labels: { team: "a" } });
    const reg = serialize([wf, named], where);
    expect(reg.launchPlans.map((lp) => [lp.id?.name, lp.spec?.labels?.values])).toEqual([
      ["flow", { team: "a" }],
    ]);
    expect(() => launchPlan({ name: "lp" } as unknown as Parameters<typeof launchPlan>[0])).toThrow(
      new DslError("launchPlan lp needs a workflow (launchPlan({ name, workflow, ... }))"),
    );
  });

  it("reject invalid definitions with a DslError naming the problem", () => {
    expect(() => inc({ a: 1 })).toThrow(/can only be called inside a workflow body/);
    expect(() => workflow({ name: "empty", inputs: {}, outputs: {} }, () => ({}))).toThrow(/calls no task/);
    expect(() =>
      workflow({ name: "missing", inputs: { x: t.int }, outputs: { o: t.int } }, ({ x }) => {
        inc({ a: x });
        return {} as never;
      }),
    ).toThrow(/missing input "o"/);
    expect(() =>
      workflow({ name: "dup", inputs: { x: t.int }, outputs: { o: t.int } }, ({ x }) => {
        inc({ a: x }, { id: "same" });
        return { o: inc({ a: x }, { id: "same" }).o };
      }),
    ).toThrow(/duplicate node id "same"/);
    expect(() =>
      workflow({ name: "two", inputs: { x: t.int }, outputs: { o: t.int } }, ({ x }) => ({
        o: conditional()
          .if(x.gt(1), () => {
            inc({ a: x });
            return inc({ a: x });
          })
          .else(() => inc({ a: x })).o,
      })),
    ).toThrow(/exactly one call/);
    expect(() => task({ name: "", inputs: {}, outputs: {} }, () => ({}))).toThrow(DslError);
    expect(() => task({ name: "r", inputs: {}, outputs: {}, retries: -1 }, () => ({}))).toThrow(/retries/);
    expect(() => sleep("soon" as never)).toThrow(/invalid duration/);
    const other = task({ name: "inc", inputs: {}, outputs: {} }, () => ({}));
    const clash = workflow({ name: "clash", inputs: { x: t.int }, outputs: {} }, ({ x }) => {
      inc({ a: x });
      other({});
      return {};
    });
    expect(() => serialize([clash], where)).toThrow(/two different tasks are named inc/);
  });

  it("check types at compile time", () => {
    workflow({ name: "typed", inputs: { s: t.string }, outputs: { o: t.int } }, ({ s }) => {
      // @ts-expect-error a string reference is not an int input
      const bad = inc({ a: s });
      // @ts-expect-error unknown output
      void bad.nope;
      return { o: inc({ a: 1 }).o };
    });
  });
});
