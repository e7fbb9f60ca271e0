// Real tasks: a 1-node process task (`sh -c true` through the process runtime, the default for container tasks) and
// a 10-node chain of them, against spawning the same command from Node; and what Postgres does per execution (SQL
// statements, commits) for the process task and a 1-node `echo`. Run: npm run bench:process-tasks
import { spawn } from "node:child_process";
import { startBenchServerProcess, writeSection } from "./bench-support.js";
import { echoChain, processChain, processTask, registerWorkloads, watchRunner } from "./petrel-workloads.js";
import { type Counters, openCounters } from "./pg-counters.js";
import { concurrently, fmtMs, over, ratio, scaled, showMs, sleep, target } from "./stats.js";

const ROUNDS = scaled(5, 2);
const SERIAL = scaled(40, 4);
const CHAIN_RUNS = scaled(10, 2);
const COUNTED = scaled(100, 10);

function spawnTrue(): Promise<number> {
  const start = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn("sh", ["-c", "true"], { stdio: "ignore" });
    child.once("error", reject);
    child.once("exit", (code) =>
      code === 0 ? resolve(performance.now() - start) : reject(new Error(`exit ${code}`)),
    );
  });
}

const bench = await startBenchServerProcess({}, { statements: true });
try {
  const { admin, server } = bench;
  await registerWorkloads(admin, [1], [1, 10]);
  const watch = watchRunner(admin, server.grpcPort);
  await concurrently(1, 3, () => watch(processChain(10))); // warm-up
  await concurrently(1, 10, spawnTrue);

  interface Round {
    readonly spawn: number;
    readonly task: number;
    readonly chain: number;
    readonly serverCpu: number;
    readonly postgresCpu: number;
  }
  const rounds: Round[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const spawned = await concurrently(1, SERIAL, spawnTrue);
    const { result: task, cpu } = await bench.cpuOf(() => concurrently(1, SERIAL, () => watch(processTask)));
    const chain = await concurrently(1, CHAIN_RUNS, () => watch(processChain(10)));
    rounds.push({
      spawn: spawned.p50,
      task: task.p50,
      chain: chain.p50,
      serverCpu: cpu.server / task.count,
      postgresCpu: cpu.postgres / task.count,
    });
    console.log(
      `round ${r + 1}: spawn ${fmtMs(spawned.p50)}, task ${fmtMs(task.p50)}, chain ${fmtMs(chain.p50)}`,
    );
  }

  // Postgres's work per execution, one execution at a time, less what the idle server does in as long.
  const counters = await openCounters(server.databaseUrl, "petrel");
  await sleep(1000);
  const idle = await counters.during(() => sleep(2000));
  const perExecution = async (runs: number, one: () => Promise<number>): Promise<Counters> => {
    const c = await counters.during(async () => void (await concurrently(1, runs, one)));
    const k = c.seconds / idle.seconds;
    const per = (key: Exclude<keyof Counters, "seconds">) => (c[key] - k * idle[key]) / runs;
    return {
      statements: per("statements"),
      explicitCommits: per("explicitCommits"),
      writeCommits: per("writeCommits"),
      walBytes: per("walBytes"),
      seconds: c.seconds / runs,
    };
  };
  const counted = {
    echo: await perExecution(COUNTED, () => watch(echoChain(1))),
    task: await perExecution(COUNTED, () => watch(processTask)),
    chain: await perExecution(CHAIN_RUNS, () => watch(processChain(10))),
  };
  await counters.close();

  const o = (f: (r: Round) => number) => over(rounds, f);
  // Judged as shown, to a tenth: what the background adds (autovacuum, say) stays below that.
  const statements = counted.task.statements.toFixed(1);
  const commits = counted.task.writeCommits.toFixed(1);
  const overhead = o((r) => r.task - r.spawn);
  const chainVsTask = o((r) => r.chain / r.task);
  const row = (label: string, c: Counters) =>
    `| ${label} | ${c.statements.toFixed(1)} | ${c.writeCommits.toFixed(1)} | ${c.explicitCommits.toFixed(1)} | ${(c.walBytes / 1024).toFixed(1)} KiB |`;
  const body = `Script: \`test/bench/process-tasks.bench.ts\` (\`npm run bench:process-tasks\`). \`petrel serve\` in its own
process, durable embedded Postgres (pg_stat_statements loaded for the counts); one client. The task is a container
task whose command is \`sh -c true\`, run by the process runtime (the default); the chain is 10 of them in sequence;
latency is CreateExecution → the terminal phase on WatchExecution. Baseline: \`child_process.spawn("sh", ["-c",
"true"])\` → exit from the benchmark's process. ${rounds.length} rounds alternate the three (p50s of ${SERIAL}, ${SERIAL}
and ${CHAIN_RUNS} runs); medians of the rounds (range in parentheses).

| measurement | p50 |
|---|---|
| spawn \`sh -c true\` (baseline) | ${showMs(o((r) => r.spawn))} |
| 1-node process task | ${showMs(o((r) => r.task))} |
| 10-node chain of process tasks | ${showMs(o((r) => r.chain))} |

- CPU per process-task execution (user + system, /proc, counted until 2 s after the runs, idle use in those 2 s
  included): server ${showMs(o((r) => r.serverCpu))}, Postgres
  ${showMs(o((r) => r.postgresCpu))} (the task's own process, gone when sampled, is not counted).

Postgres per execution (${COUNTED} executions one at a time, ${CHAIN_RUNS} for the chain; statements from
pg_stat_statements without BEGIN / COMMIT / ROLLBACK; write commits are the WAL's commit records, the transactions
that wait for an fsync; explicit commits are COMMIT statements; the idle server's own work over the same time,
${idle.statements} statements in ${idle.seconds.toFixed(1)} s, is subtracted):

| execution | SQL statements | write commits | COMMIT statements | WAL |
|---|---|---|---|---|
${row("1-node `echo`", counted.echo)}
${row("1-node process task", counted.task)}
${row("10-node chain of process tasks", counted.chain)}

Targets (issue 19), from this run:

${target(`1-node process task p50 ≤ spawn + 5 ms: spawn + ${showMs(overhead)}`, overhead.median <= 5)}
${target(`≤ 12 SQL statements per process-task execution: ${statements} (${ratio(Number(statements), 12)} the bound)`, Number(statements) <= 12)}
${target(`≤ 2 commits per process-task execution: ${commits} (${ratio(Number(commits), 2)} the bound)`, Number(commits) <= 2)}
${target(`10-node chain ≤ 10× the 1-node task: ${chainVsTask.median.toFixed(1)}× (${chainVsTask.min.toFixed(1)}–${chainVsTask.max.toFixed(1)})`, chainVsTask.median <= 10)}`;
  writeSection("Real tasks: process runtime vs spawn", body);
  console.log(body);
} finally {
  await bench.stop();
}
