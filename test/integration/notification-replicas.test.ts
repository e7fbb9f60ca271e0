// The outbox across replicas and crashes: two servers on one database deliver each message once, and a server
// killed with SIGKILL while messages wait loses none of them (another server delivers them, at least once).
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import knex from "knex";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AdminService } from "../../gen/flyteidl/service/admin_pb.js";
import { launchPlanId } from "../fixtures/flyte-builders.js";
import { notification, P, Phase, registerFlows } from "../fixtures/notification-builders.js";
import { eventually } from "../support/eventually.js";
import {
  type HttpReceiver,
  type SmtpReceiver,
  startHttpReceiver,
  startSmtpReceiver,
} from "../support/message-receivers.js";
import { type ServerProcess, startServerProcess } from "../support/server-process.js";
import { createTestDatabase, type TestDatabase } from "../support/test-database.js";
import { startTestServer, type TestServer } from "../support/test-server.js";

let smtp: SmtpReceiver;
let sink: HttpReceiver;

beforeAll(async () => {
  [smtp, sink] = await Promise.all([startSmtpReceiver(), startHttpReceiver()]);
});
afterAll(async () => {
  await Promise.all([smtp?.close(), sink?.close()]);
});

interface Row {
  state: string;
  channel: string;
  ce: string | null;
}
async function outbox(db: { raw: (sql: string) => Promise<unknown> }): Promise<Row[]> {
  const r = await db.raw("SELECT state, channel, payload->>'id' AS ce FROM outbox_messages");
  return (r as { rows: Row[] }).rows;
}
const ceIds = () => sink.posts.map((p) => p.json<{ id: string }>().id);
const flows = {
  ok: [notification("email", [Phase.SUCCEEDED], ["replicas@test.example"])],
  fail: [],
  nap: [],
};

describe("two replicas", () => {
  const servers: TestServer[] = [];
  afterAll(async () => {
    for (const s of servers.slice(1)) await s.server.stop(2_000);
    await servers[0]?.stop();
  });

  it("deliver each message once", async () => {
    const env = { PETREL_SMTP_URL: smtp.url, PETREL_EVENT_SINK_URLS: `${sink.url}/replicas` };
    const start = { outbox: { pollMs: 20 } };
    const a = await startTestServer({ env, start });
    servers.push(a);
    servers.push(await startTestServer({ database: a.database, env, start }));
    await registerFlows(a.admin, flows);
    const N = 24;
    await Promise.all(
      Array.from({ length: N }, (_, i) =>
        (servers[i % 2] ?? a).admin.createExecution({
          ...P,
          name: `r${i}`,
          spec: { launchPlan: launchPlanId("ok") },
          inputs: {},
        }),
      ),
    );
    const rows = await eventually(
      () => outbox(a.server.db),
      (r) => r.filter((m) => m.channel === "email").length === N && r.every((m) => m.state === "delivered"),
      60_000,
    );
    const ids = ceIds();
    expect(ids.length).toBe(new Set(ids).size);
    expect(new Set(ids)).toEqual(new Set(rows.flatMap((r) => (r.ce === null ? [] : [r.ce]))));
    const mails = smtp.mails.filter((m) => m.to.includes("replicas@test.example"));
    expect(mails).toHaveLength(N);
    const names = mails.map((m) => /execution (r\d+) SUCCEEDED/.exec(m.raw)?.[1]);
    expect(new Set(names).size).toBe(N);
  });
});

describe("kill -9", () => {
  let database: TestDatabase;
  const procs: ServerProcess[] = [];
  afterAll(async () => {
    for (const p of procs)
      if (p.child.exitCode === null && p.child.signalCode === null) await p.stop("SIGKILL");
    await database?.drop();
  });

  it("loses no message: another server delivers what the killed one had not", async () => {
    database = await createTestDatabase();
    sink.posts.length = 0;
    smtp.mails.length = 0;
    const serve = async () => {
      const p = await startServerProcess(
        ["--database-url", database.url, "--smtp-url", smtp.url, "--event-sink-url", `${sink.url}/killed`],
        { PETREL_ENGINE_LEASE_MS: "1500" },
      );
      procs.push(p);
      return p;
    };
    const first = await serve();
    const admin = createClient(
      AdminService,
      createGrpcTransport({ baseUrl: `http://127.0.0.1:${first.grpcPort}` }),
    );
    await registerFlows(admin, flows);
    // The sink refuses while executions run, so their events wait in the outbox when the server dies.
    sink.down = true;
    const N = 8;
    for (let i = 0; i < N; i++)
      await admin.createExecution({
        ...P,
        name: `k${i}`,
        spec: { launchPlan: launchPlanId("ok") },
        inputs: {},
      });
    const db = knex({ client: "pg", connection: database.url, pool: { min: 0, max: 2 } });
    try {
      await eventually(
        () => outbox(db),
        (r) => r.filter((m) => m.channel === "cloudevent").length >= N * 3,
        30_000,
      );
      await eventually(
        async () => sink.refused,
        (n) => n > 0,
      );
      await first.stop("SIGKILL");
      sink.down = false;
      await serve();
      const rows = await eventually(
        () => outbox(db),
        (r) => r.filter((m) => m.channel === "email").length === N && r.every((m) => m.state === "delivered"),
        60_000,
      );
      const received = new Set(ceIds());
      const missing = rows.filter((r) => r.ce !== null && !received.has(r.ce));
      expect(missing).toEqual([]);
      const names = new Set(
        smtp.mails
          .filter((m) => m.to.includes("replicas@test.example"))
          .map((m) => /execution (k\d+)/.exec(m.raw)?.[1]),
      );
      expect(names.size).toBe(N);
    } finally {
      await db.destroy();
    }
  });
});
