// Compile-time tests of `remote.execute`: a DSL entity's inputs are checked against its interface and the handle's
// outputs are typed by it; references by name take and give plain records. Checked by `tsc --noEmit -p .`; never run.
// Each `@ts-expect-error` line must be an error (tsc fails if it is not); every other line must compile.
import type { ExecutionHandle, FriendlyRemote } from "../../client/index.js";
import { launchPlan, t, task, workflow } from "../../client/index.js";

type Equal<A, B> = (<X>() => X extends A ? 1 : 2) extends <X>() => X extends B ? 1 : 2 ? true : false;
const assertType = <T extends true>(_: T) => undefined;

const add = task(
  { name: "types.add", inputs: { a: t.int, b: t.int }, outputs: { sum: t.int } },
  ({ a, b }) => ({ sum: a + b }),
);
const describe = task(
  {
    name: "types.describe",
    inputs: { n: t.int, tags: t.list(t.string), note: t.optional(t.string) },
    outputs: { text: t.string, size: t.int },
  },
  ({ n, tags }) => ({ text: `${n}:${tags.join(",")}`, size: tags.length }),
);
const pipeline = workflow(
  {
    name: "types.pipeline",
    inputs: { x: t.int, label: t.string },
    outputs: { total: t.int, text: t.string },
  },
  ({ x, label }) => {
    const s = add({ a: x, b: 1 });
    const d = describe({ n: s.sum, tags: ["a"], note: label });
    return { total: s.sum, text: d.text };
  },
);
const noInputs = workflow({ name: "types.none", inputs: {}, outputs: { o: t.int } }, () => ({
  o: add({ a: 1, b: 2 }).sum,
}));
const nightly = launchPlan({ workflow: pipeline, name: "types.nightly", defaultInputs: { label: "n" } });

export async function typedExecute(remote: FriendlyRemote): Promise<void> {
  // Right inputs compile, and the outputs are the entity's.
  const exe = await remote.execute(add, { a: 1, b: 2 });
  const out = await (await exe.wait()).outputs();
  assertType<Equal<typeof out, { sum: number }>>(true);
  const sum: number = out.sum;
  const wf = await remote.execute(pipeline, { x: 1, label: "a" }, { wait: true });
  const wfOut = await wf.outputs();
  assertType<Equal<typeof wfOut, { total: number; text: string }>>(true);
  const text: string = wfOut.text;
  await remote.execute(describe, { n: 1, tags: ["x"], note: "maybe" });
  await remote.execute(describe, { n: 1, tags: [], note: null });
  // No inputs: they may be left out.
  await remote.execute(noInputs);
  await remote.execute(noInputs, {}, { wait: true });
  // A launch plan: its defaults are not in its type, so every input may be left out; the rest is checked.
  await remote.execute(nightly, { x: 2 });
  const lpOut = await (await remote.execute(nightly, {})).outputs();
  assertType<Equal<typeof lpOut, { total: number; text: string }>>(true);

  // @ts-expect-error a missing input
  await remote.execute(add, { a: 1 });
  // @ts-expect-error an extra input
  await remote.execute(add, { a: 1, b: 2, c: 3 });
  // @ts-expect-error a wrongly typed input
  await remote.execute(add, { a: 1, b: "2" });
  // @ts-expect-error a wrongly typed list item
  await remote.execute(describe, { n: 1, tags: [1], note: null });
  // @ts-expect-error an optional input still has to be given (null for none)
  await remote.execute(describe, { n: 1, tags: [] });
  // @ts-expect-error a workflow's missing input
  await remote.execute(pipeline, { x: 1 });
  // @ts-expect-error a workflow's wrongly typed input
  await remote.execute(pipeline, { x: 1, label: 2 });
  // @ts-expect-error inputs are required when the entity has some
  await remote.execute(add);
  // @ts-expect-error a launch plan's extra input
  await remote.execute(nightly, { y: 1 });
  // @ts-expect-error a launch plan's wrongly typed input
  await remote.execute(nightly, { x: "2" });
  // @ts-expect-error an output the entity does not have
  out.total;
  // @ts-expect-error an output of the wrong type
  const wrong: string = out.sum;

  // References by name and fetched entities stay untyped records.
  const byName = await remote.execute({ launchPlan: "pipeline" }, { anything: 1, goes: "here" });
  const named = await byName.outputs();
  assertType<Equal<typeof named, Record<string, unknown>>>(true);
  await remote.execute({ workflow: "pipeline", version: "v1", launchPlan: "nightly" }, { x: 1 });
  await remote.execute({ task: "double" });
  const lp = await remote.fetchLaunchPlan("pipeline");
  const fetched = await (await remote.execute(lp, { x: 1 })).outputs();
  assertType<Equal<typeof fetched, Record<string, unknown>>>(true);

  // Typed handles go wherever a handle does, and keep their types through relaunch.
  const handle: ExecutionHandle = exe;
  await remote.approve("ok", exe);
  await remote.terminate(wf, "done");
  const again = await remote.relaunch(exe);
  assertType<Equal<Awaited<ReturnType<typeof again.outputs>>, { sum: number }>>(true);
  const fetchedHandle = await remote.fetchExecution("abc");
  assertType<Equal<Awaited<ReturnType<typeof fetchedHandle.outputs>>, Record<string, unknown>>>(true);
  void [sum, text, handle, wrong];
}
