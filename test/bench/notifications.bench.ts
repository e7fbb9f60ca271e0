// What notifications cost the engine: 1,000 executions of a 1-node echo workflow whose launch plan emails on
// SUCCEEDED (to a real SMTP server in this process) and posts to a Slack-style webhook, against the same workflow
// without notifications, on one server process. Rounds alternate the two, so both see the same phases of this
// (noisy, shared) machine. A round's throughput counts until every execution is terminal (the sender delivers
// meanwhile, on the same two cores); the outbox is then drained, untimed, before the next round. Run: npm run bench:notifications
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import pg from "pg";
import { WorkflowExecution_Phase as W } from "../../gen/flyteidl/core/execution_pb.js";
import { WatchService } from "../../gen/petrel/v1/watch_pb.js";
import { launchPlanId, literalInt, workflowId } from "../fixtures/flyte-builders.js";
import { notification, Phase, registerFlows } from "../fixtures/notification-builders.js";
import { startHttpReceiver, startSmtpReceiver } from "../support/message-receivers.js";
import { startBenchServerProcess, writeSection } from "./bench-support.js";

const CLIENTS = 32;
const ROUNDS = 11;
const PER_ROUND = 200;

const smtp = await startSmtpReceiver();
const hook = await startHttpReceiver();
const bench = await startBenchServerProcess({ PETREL_SMTP_URL: smtp.url }, { durable: true });
const db = new pg.Client({ connectionString: bench.server.databaseUrl });
try {
  await db.connect();
  const { admin, server } = bench;
  const watch = createClient(
    WatchService,
    createGrpcTransport({ baseUrl: `http://127.0.0.1:${server.grpcPort}` }),
  );
  // `ok` notifies; `nap`'s task is never run here, so the plain variant re-registers `ok`'s workflow as `plain`.
  await registerFlows(admin, {
    ok: [
      notification("email", [Phase.SUCCEEDED], ["bench@test.example"]),
      notification("slack", [Phase.SUCCEEDED], [`${hook.url}/slack`]),
    ],
    fail: [],
    nap: [],
  });
  const P = { project: "flytesnacks", domain: "development" };
  const lp = await admin.getLaunchPlan({ id: launchPlanId("ok") });
  await admin.createLaunchPlan({
    id: launchPlanId("plain"),
    spec: { workflowId: workflowId("ok"), defaultInputs: lp.spec?.defaultInputs ?? {} },
  });
  let n = 0;
  const one = async (plan: string) => {
    const res = await admin.createExecution({
      ...P,
      name: `${plan}-${n++}`,
      spec: { launchPlan: launchPlanId(plan) },
      inputs: { literals: { x: literalInt(1) } },
    });
    for await (const e of watch.watchExecution({ id: res.id })) {
      if (e.kind.case === "execution" && e.kind.value.closure?.phase === W.FAILED) throw new Error("failed");
    }
  };
  const pending = async () =>
    Number(
      (await db.query("SELECT count(*) AS n FROM outbox_messages WHERE state = 'pending'")).rows[0]?.n ?? 0,
    );
  const round = async (plan: string) => {
    const started = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: CLIENTS }, async () => {
        while (next < PER_ROUND) {
          next++;
          await one(plan);
        }
      }),
    );
    const done = performance.now();
    while ((await pending()) > 0) await new Promise((r) => setTimeout(r, 10));
    if (plan === "ok") drains.push(performance.now() - done);
    return PER_ROUND / ((done - started) / 1000);
  };
  const drains: number[] = [];
  for (let i = 0; i < 2; i++) {
    await round("plain"); // warm-up
    await round("ok");
  }
  drains.length = 0;
  const rows: { plain: number; notified: number }[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const first = i % 2 === 0 ? "plain" : "ok";
    const a = await round(first);
    const b = await round(first === "plain" ? "ok" : "plain");
    rows.push(first === "plain" ? { plain: a, notified: b } : { plain: b, notified: a });
  }
  const mails = smtp.mails.length;
  const ratios = rows.map((r) => r.notified / r.plain).sort((x, y) => x - y);
  const med = ratios[Math.floor(ratios.length / 2)] ?? 0;
  const sum = (k: "plain" | "notified") => rows.reduce((s, r) => s + r[k], 0) / rows.length;
  const body = [
    "`npm run bench:notifications` (test/bench/notifications.bench.ts), on durable Postgres (fsync and synchronous",
    "commit on, as the product runs): a 1-node `echo` workflow, 32 concurrent",
    `clients, ${ROUNDS} alternating rounds of ${PER_ROUND} executions each way (${ROUNDS * PER_ROUND} with notifications:`,
    "an email through SMTP to a local smtp-server and a Slack-style webhook post, both on SUCCEEDED). A round's",
    "throughput counts until every execution is terminal, with the sender delivering meanwhile on the same cores;",
    "the rest of the outbox is then drained before the next round (the drain time after the last execution is below).",
    "",
    "| round | without (exec/s) | with notifications (exec/s) | ratio (with / without) |",
    "|---|---|---|---|",
    ...rows.map(
      (r, i) =>
        `| ${i + 1} | ${r.plain.toFixed(1)} | ${r.notified.toFixed(1)} | ${(r.notified / r.plain).toFixed(3)} |`,
    ),
    `| mean | ${sum("plain").toFixed(1)} | ${sum("notified").toFixed(1)} | median ${med.toFixed(3)} (range ${ratios[0]?.toFixed(3)}–${ratios.at(-1)?.toFixed(3)}) |`,
    "",
    `Throughput cost of notifications: ${((1 - med) * 100).toFixed(1)}% at the median (target ≤ 10%); ${mails} emails`,
    `and ${hook.posts.length} webhook posts were received. The outbox drained ${drains
      .sort((x, y) => x - y)
      .map((d) => `${Math.round(d)}`)
      .join(", ")} ms after a round's last execution (${(2 * PER_ROUND).toString()} messages a round).`,
  ].join("\n");
  writeSection("Notifications: engine throughput with and without", body);
  console.log(body);
} finally {
  await db.end();
  await bench.stop();
  await smtp.close();
  await hook.close();
}
