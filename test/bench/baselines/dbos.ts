// The DBOS Transact baseline: durable workflows of 1 and 10 steps, each step returning its input (the `echo` of
// Petrel's chains), run in the benchmark's process with DBOS's defaults on its own system database. A run is
// DBOS.startWorkflow → handle.getResult(), which resolves after the workflow's SUCCESS status is committed.
import { DBOS } from "@dbos-inc/dbos-sdk";

const echo = async (x: number) => x;

async function chain(steps: number, x: number): Promise<number> {
  let v = x;
  for (let i = 0; i < steps; i++) v = await DBOS.runStep(() => echo(v), { name: `step${i}` });
  return v;
}

const workflows = {
  1: DBOS.registerWorkflow((x: number) => chain(1, x), { name: "oneStep" }),
  10: DBOS.registerWorkflow((x: number) => chain(10, x), { name: "tenSteps" }),
};

export interface Dbos {
  /** One workflow of `steps` steps, start → result; ms. */
  run(steps: 1 | 10): Promise<number>;
  stop(): Promise<void>;
}

export async function startDbos(systemDatabaseUrl: string): Promise<Dbos> {
  DBOS.setConfig({ name: "petrel-bench", systemDatabaseUrl, logLevel: "error" });
  await DBOS.launch();
  return {
    async run(steps) {
      const start = performance.now();
      const handle = await DBOS.startWorkflow(workflows[steps])(steps);
      if ((await handle.getResult()) !== steps) throw new Error("DBOS workflow returned a wrong result");
      return performance.now() - start;
    },
    stop: () => DBOS.shutdown(),
  };
}
