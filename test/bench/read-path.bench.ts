// The read path: GetExecution and ListExecutions (limit 100) requests per second from `petrel serve`, against a bare
// grpc-js server answering the same messages from memory, at concurrency 1 and 32, in alternating rounds.
// Run: npm run bench:read-path

import { flyteidl } from "../support/flyteidl-client.js";
import { startEchoServer } from "./baselines/grpc-echo.js";
import { startBenchServerProcess, writeSection } from "./bench-support.js";
import { echoChain, PROJECT, rawUnary, registerWorkloads, watchRunner } from "./petrel-workloads.js";
import { callsPerSecond, concurrently, over, type Spread, scaled, showRate, target } from "./stats.js";

const ROUNDS = scaled(5, 2);
const SECONDS = scaled(2, 0.3);
const CONCURRENCY = [1, 32] as const;
const ADMIN = "/flyteidl.service.AdminService";
const scope = { project: PROJECT, domain: "development" };

const bench = await startBenchServerProcess();
let echo: Awaited<ReturnType<typeof startEchoServer>> | undefined;
try {
  const { admin, server } = bench;
  await registerWorkloads(admin, [1]);
  const watch = watchRunner(admin, server.grpcPort);
  await concurrently(8, 20, () => watch(echoChain(1))); // 160 executions to list
  const listed = await admin.listExecutions({ id: scope, limit: 1 });
  const id = listed.executions[0]?.id;
  if (id === undefined) throw new Error("no execution to read");

  const calls = {
    get: {
      path: `${ADMIN}/GetExecution`,
      requestType: "admin.WorkflowExecutionGetRequest",
      responseType: "admin.Execution",
      body: flyteidl.admin.WorkflowExecutionGetRequest.encode({ id: { ...scope, name: id.name } }).finish(),
    },
    list: {
      path: `${ADMIN}/ListExecutions`,
      requestType: "admin.ResourceListRequest",
      responseType: "admin.ExecutionList",
      body: flyteidl.admin.ResourceListRequest.encode({ id: scope, limit: 100 }).finish(),
    },
  };
  const petrel = rawUnary(`127.0.0.1:${server.grpcPort}`);
  const answers = {
    get: await petrel.call(calls.get.path, calls.get.body),
    list: await petrel.call(calls.list.path, calls.list.body),
  };
  echo = await startEchoServer(
    (["get", "list"] as const).map((k) => ({ ...calls[k], response: answers[k].toString("base64") })),
  );
  const bare = rawUnary(`127.0.0.1:${echo.port}`);

  type Key = `${"get" | "list"}${1 | 32}`;
  type Round = Record<Key, { petrel: number; bare: number }>;
  const rounds: Round[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const round: Partial<Round> = {};
    for (const k of ["get", "list"] as const) {
      for (const c of CONCURRENCY) {
        const { path, body } = calls[k];
        const rate = (client: typeof petrel) => callsPerSecond(c, SECONDS, () => client.call(path, body));
        // Alternate which server goes first, round by round.
        const first = r % 2 === 0 ? await rate(petrel) : await rate(bare);
        const second = r % 2 === 0 ? await rate(bare) : await rate(petrel);
        round[`${k}${c}`] = r % 2 === 0 ? { petrel: first, bare: second } : { petrel: second, bare: first };
      }
    }
    rounds.push(round as Round);
    console.log(`round ${r + 1}:`, JSON.stringify(round));
  }
  petrel.close();
  bare.close();

  const of = (k: Key) => ({
    petrel: over(rounds, (r) => r[k].petrel),
    bare: over(rounds, (r) => r[k].bare),
    ratio: over(rounds, (r) => r[k].petrel / r[k].bare),
  });
  const showRatio = (s: Spread) => `${s.median.toFixed(2)}× (${s.min.toFixed(2)}–${s.max.toFixed(2)})`;
  const label = { get: "GetExecution", list: "ListExecutions (limit 100)" };
  const bound = { get: 0.7, list: 0.6 };
  const keys = (["get", "list"] as const).flatMap((k) => CONCURRENCY.map((c) => [k, c] as const));
  const rows = keys.map(([k, c]) => {
    const s = of(`${k}${c}`);
    return `| ${label[k]}, concurrency ${c} | ${showRate(s.petrel)} | ${showRate(s.bare)} | ${showRatio(s.ratio)} |`;
  });
  const targets = keys.map(([k, c]) => {
    const s = of(`${k}${c}`).ratio;
    return target(
      `${label[k]} at concurrency ${c} ≥ ${bound[k]}× the bare server: ${showRatio(s)}`,
      s.median >= bound[k],
    );
  });
  const body = `Script: \`test/bench/read-path.bench.ts\` (\`npm run bench:read-path\`). \`petrel serve\` in its own process on
durable embedded Postgres, holding 160 1-node executions; the baseline is a bare grpc-js server, also in its own
process, whose methods decode the request and answer with the same message Petrel returned (${answers.get.length} bytes
for GetExecution, ${answers.list.length.toLocaleString("en")} for ListExecutions), encoded per call, both with
@flyteorg/flyteidl's pb-js codecs. One grpc-js client channel in the benchmark's process sends pre-encoded requests
and takes the answers as bytes, for both servers alike; closed-loop callers at each concurrency for ${SECONDS} s per
window; ${rounds.length} rounds alternate which server goes first. Requests/s: median of the rounds (range).

| call | Petrel | bare grpc-js server | ratio |
|---|---|---|---|
${rows.join("\n")}

Targets (issue 19), from this run:

${targets.join("\n")}`;
  writeSection("Read path: GetExecution and ListExecutions vs a bare grpc-js server", body);
  console.log(body);
} finally {
  await echo?.stop();
  await bench.stop();
}
