// Engine latency, throughput, CPU and retained bytes: 1-node and 10-node `echo` workflows on `petrel serve` (its own
// process), against DBOS Transact (1-step and 10-step workflows) and graphile-worker (a job, to its completion
// commit), both in the benchmark's process on the same Postgres server, each on its own database; rounds alternate
// the three. Run: npm run bench:engine (PETREL_BENCH_QUICK=1 for a smoke run)
import { type Dbos, startDbos } from "./baselines/dbos.js";
import { type Graphile, startGraphile } from "./baselines/graphile.js";
import { freshDatabase, startBenchServerProcess, writeSection } from "./bench-support.js";
import { type Cpu, type EngineRound, engineReport, type Measured } from "./engine-report.js";
import { loadAverage } from "./machine.js";
import { echoChain, pollingRunner, registerWorkloads, watchRunner } from "./petrel-workloads.js";
import { retainedBytes } from "./pg-counters.js";
import { concurrently, scaled, sleep, type Window } from "./stats.js";

const CLIENTS = 32;
const ROUNDS = scaled(5, 2);
/** 32 × 63 = 2,016 executions per load window. */
const PER_CLIENT = scaled(63, 3);
const SERIAL = scaled(100, 5);

const startLoad = loadAverage();
const bench = await startBenchServerProcess();
let dbos: Dbos | undefined;
let graphile: Graphile | undefined;
try {
  const { admin, server } = bench;
  await registerWorkloads(admin, [1, 10]);
  const watch = watchRunner(admin, server.grpcPort);
  const poller = pollingRunner(server.grpcPort);
  const dbosUrl = await freshDatabase(server.databaseUrl, "dbos_bench");
  const graphileUrl = await freshDatabase(server.databaseUrl, "graphile_bench");
  dbos = await startDbos(dbosUrl);
  graphile = await startGraphile(graphileUrl, CLIENTS);
  const d = dbos;
  const g = graphile;

  /** A window with the CPU time the processes spent on it (and on what it left to do), per execution. */
  async function measured(clients: number, perClient: number, one: () => Promise<number>): Promise<Measured> {
    const { result: w, cpu } = await bench.cpuOf(
      (): Promise<Window> => concurrently(clients, perClient, one),
    );
    const per = (k: keyof Cpu) => cpu[k] / w.count;
    return { ...w, cpu: { server: per("server"), postgres: per("postgres"), client: per("client") } };
  }
  const serial = (one: () => Promise<number>) => measured(1, SERIAL, one);
  const loaded = (one: () => Promise<number>) => measured(CLIENTS, PER_CLIENT, one);

  const petrelRound = async () => ({
    watch1: await serial(() => watch(echoChain(1))),
    poll1: await serial(() => poller.run(echoChain(1))),
    watch10: await serial(() => watch(echoChain(10))),
    load1: await loaded(() => watch(echoChain(1))),
    load10: await loaded(() => watch(echoChain(10))),
  });
  const dbosRound = async () => ({
    serial1: await serial(() => d.run(1)),
    serial10: await serial(() => d.run(10)),
    load1: await loaded(() => d.run(1)),
    load10: await loaded(() => d.run(10)),
  });
  const graphileRound = async () => ({
    serial: await serial(() => g.completed()),
    load: await loaded(() => g.completed()),
  });

  // Warm-up, then rounds that alternate the three systems (each round starting with the next one), so all see the
  // same phases of this shared machine; every figure is the median over the rounds, with its range.
  await concurrently(4, 5, () => watch(echoChain(1)));
  await concurrently(4, 5, () => poller.run(echoChain(10)));
  await concurrently(4, 5, () => d.run(10));
  await concurrently(4, 5, () => g.completed());
  const rounds: EngineRound[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    let petrel: EngineRound["petrel"] | undefined;
    let db: EngineRound["dbos"] | undefined;
    let gw: EngineRound["graphile"] | undefined;
    const steps = [
      async () => {
        petrel = await petrelRound();
      },
      async () => {
        db = await dbosRound();
      },
      async () => {
        gw = await graphileRound();
      },
    ];
    for (let i = 0; i < steps.length; i++) await steps[(r + i) % steps.length]?.();
    if (petrel === undefined || db === undefined || gw === undefined)
      throw new Error("a round is incomplete");
    rounds.push({ petrel, dbos: db, graphile: gw });
    console.log(
      `round ${r + 1}: petrel ${petrel.watch1.p50.toFixed(1)} ms, ${petrel.load1.perSecond.toFixed(0)}/s; dbos ${db.serial1.p50.toFixed(1)} ms, ${db.load1.perSecond.toFixed(0)}/s; graphile ${gw.serial.p50.toFixed(1)} ms, ${gw.load.perSecond.toFixed(0)}/s`,
    );
  }

  // Retained bytes: one more load window of 1-node runs per system, between VACUUMed sizes of its database.
  const bytesPer = async (url: string, one: () => Promise<number>) => {
    const before = await retainedBytes(url);
    const w = await concurrently(CLIENTS, PER_CLIENT, one);
    await sleep(1000); // anything the system finishes after the answer
    return ((await retainedBytes(url)) - before) / w.count;
  };
  const bytes = {
    petrel: await bytesPer(server.databaseUrl, () => watch(echoChain(1))),
    dbos: await bytesPer(dbosUrl, () => d.run(1)),
    graphile: await bytesPer(graphileUrl, () => g.completed()),
  };
  poller.close();
  const body = engineReport(rounds, bytes, {
    clients: CLIENTS,
    perWindow: CLIENTS * PER_CLIENT,
    serial: SERIAL,
    load: `${startLoad} at the start, ${loadAverage()} at the end`,
  });
  writeSection("Engine: execution latency and throughput", body);
  console.log(body);
} finally {
  await graphile?.stop();
  await dbos?.stop();
  await bench.stop();
}
