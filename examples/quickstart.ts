// The README's TypeScript quick start: `npx tsx examples/quickstart.ts` (no server needed).
import { approve, FriendlyRemote, t, task, workflow } from "petrel/client";

const add = task({ name: "add", inputs: { a: t.int, b: t.int }, outputs: { sum: t.int } }, ({ a, b }) => ({
  sum: a + b,
}));
const square = task({ name: "square", inputs: { x: t.int }, outputs: { y: t.int } }, ({ x }) => ({
  y: x * x,
}));
const pipeline = workflow({ name: "pipeline", inputs: { x: t.int }, outputs: { y: t.int } }, ({ x }) => {
  const s = add({ a: x, b: 1 });
  return { y: square({ x: approve("go", s.sum) }).y };
});

const remote = await FriendlyRemote.inProcess({ project: "demo", domain: "development" });
const exe = await remote.execute(pipeline, { x: 4 });
await exe.waitForSignal("go");
await remote.approve("go", exe); // what a human does with `petrel signal approve go <execution>`
console.log(await (await exe.wait()).outputs()); // { y: 25 }
await remote.close();
