// Notifications and event sinks end to end: a real SMTP server and local HTTP receivers get each kind (email,
// Slack, PagerDuty, Slack webhook, signed webhook) on each terminal phase, the execution's overrides and
// disable_all win, CloudEvents arrive in order per execution, a receiver that was down gets its messages
// afterwards, failures end dead and visible, and without SMTP emails are recorded as undeliverable
// (unless a replica with SMTP takes them first).
import { createHmac } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "../../client/cli/main.js";
import { launchPlanId } from "../fixtures/flyte-builders.js";
import { notification, P, Phase, registerFlows } from "../fixtures/notification-builders.js";
import { eventually } from "../support/eventually.js";
import {
  type HttpReceiver,
  type SmtpReceiver,
  startHttpReceiver,
  startSmtpReceiver,
} from "../support/message-receivers.js";
import { startTestServer, type TestServer } from "../support/test-server.js";

const SECRET = "test-webhook-secret";
let smtp: SmtpReceiver;
let slack: HttpReceiver;
let hook: HttpReceiver;
let sink: HttpReceiver;
let t: TestServer;
const TERMINAL = [Phase.SUCCEEDED, Phase.FAILED, Phase.ABORTED, Phase.TIMED_OUT];

beforeAll(async () => {
  [smtp, slack, hook, sink] = await Promise.all([
    startSmtpReceiver(),
    startHttpReceiver(),
    startHttpReceiver(),
    startHttpReceiver(),
  ]);
  t = await startTestServer({
    env: {
      PETREL_SMTP_URL: smtp.url,
      PETREL_NOTIFICATIONS_FROM: "petrel@test.example",
      PETREL_WEBHOOK_SECRET: SECRET,
      PETREL_EVENT_SINK_URLS: `${sink.url}/events`,
      PETREL_PUBLIC_URL: "https://petrel.example",
    },
    start: { outbox: { pollMs: 50, backoffMs: 100, maxBackoffMs: 400, maxAttempts: 4 } },
  });
  await registerFlows(t.admin, {
    ok: [
      notification("email", [Phase.SUCCEEDED], ["ok@test.example"]),
      notification("slack", [Phase.SUCCEEDED], ["team@slack.example", `${slack.url}/slack`]),
      notification("pagerDuty", [Phase.FAILED], ["never@pd.example"]),
    ],
    fail: [
      notification("pagerDuty", [Phase.FAILED, Phase.TIMED_OUT], ["oncall@pd.example"]),
      notification("email", [Phase.FAILED], [`${hook.url}/hook`]),
    ],
    nap: [notification("email", [Phase.ABORTED], ["aborts@test.example"])],
  });
}, 60_000);

afterAll(async () => {
  await t?.stop();
  await Promise.all([smtp?.close(), slack?.close(), hook?.close(), sink?.close()]);
});

async function run(lp: string, name: string, overrides: Record<string, unknown> = {}) {
  await t.admin.createExecution({
    ...P,
    name,
    spec: { launchPlan: launchPlanId(lp), ...overrides },
    inputs: {},
  });
}

const waitPhase = (name: string, phases: Phase[]) =>
  eventually(
    () => t.admin.getExecution({ id: { ...P, name } }),
    (e) => phases.includes(e.closure?.phase ?? 0),
    30_000,
  );

const mailsTo = (addr: string) => smtp.mails.filter((m) => m.to.includes(addr));

/** Messages of an execution still waiting in the outbox. */
async function outboxOf(name: string): Promise<{ state: string; channel: string }[]> {
  const r = await t.server.db.raw("SELECT state, channel FROM outbox_messages WHERE execution = ?", [
    `${P.project}/${P.domain}/${name}`,
  ]);
  return (r as { rows: { state: string; channel: string }[] }).rows;
}
const settled = (rows: { state: string }[]) => rows.every((r) => r.state !== "pending");

describe("notifications", () => {
  it("sends email, Slack (address and incoming webhook) on SUCCEEDED, with the console URL", async () => {
    await run("ok", "ok-1");
    await waitPhase("ok-1", TERMINAL);
    await eventually(
      async () => mailsTo("team@slack.example").length + mailsTo("ok@test.example").length,
      (n) => n === 2,
    );
    const mail = mailsTo("ok@test.example")[0];
    expect(mail?.from).toBe("petrel@test.example");
    expect(mail?.raw).toContain("Subject: Petrel: execution ok-1 SUCCEEDED in flytesnacks/development");
    expect(mail?.raw).toContain(
      "https://petrel.example/console/projects/flytesnacks/domains/development/executions/ok-1",
    );
    const posted = await eventually(
      async () => slack.posts.filter((p) => p.body.includes("ok-1")),
      (p) => p.length === 1,
    );
    expect(posted[0]?.path).toBe("/slack");
    expect(posted[0]?.json<{ text: string }>().text).toContain("SUCCEEDED");
    await eventually(() => outboxOf("ok-1"), settled);
    expect(mailsTo("never@pd.example")).toHaveLength(0);
  });

  it("pages on FAILED with the error, and signs the generic webhook", async () => {
    await run("fail", "fail-1");
    await waitPhase("fail-1", TERMINAL);
    const [page] = await eventually(
      async () => mailsTo("oncall@pd.example"),
      (m) => m.length === 1,
    );
    expect(page?.raw).toContain("fail-1 FAILED");
    expect(page?.raw).toMatch(/Error .+: /);
    const [post] = await eventually(
      async () => hook.posts.filter((p) => p.body.includes("fail-1")),
      (p) => p.length === 1,
    );
    const expected = createHmac("sha256", SECRET)
      .update(post?.body ?? "")
      .digest("hex");
    expect(post?.headers["x-petrel-signature"]).toBe(`sha256=${expected}`);
    const body = post?.json<{ phase: string; kind: string; url: string; error: { message: string } }>();
    expect(body?.phase).toBe("FAILED");
    expect(body?.kind).toBe("email");
    expect(body?.url).toContain("/executions/fail-1");
    expect(body?.error.message).not.toBe("");
  });

  it("emails on ABORTED", async () => {
    await run("nap", "nap-1");
    await waitPhase("nap-1", [Phase.RUNNING]);
    await t.admin.terminateExecution({ id: { ...P, name: "nap-1" }, cause: "enough" });
    await waitPhase("nap-1", [Phase.ABORTED]);
    const [mail] = await eventually(
      async () => mailsTo("aborts@test.example"),
      (m) => m.length === 1,
    );
    expect(mail?.raw).toContain("nap-1 ABORTED");
  });

  it("lets the execution's notifications replace the launch plan's, and disable_all silence them", async () => {
    await run("ok", "ok-override", {
      notificationOverrides: {
        case: "notifications",
        value: { notifications: [notification("email", [Phase.SUCCEEDED], ["override@test.example"])] },
      },
    });
    await run("ok", "ok-silent", { notificationOverrides: { case: "disableAll", value: true } });
    await waitPhase("ok-override", TERMINAL);
    await waitPhase("ok-silent", TERMINAL);
    await eventually(
      async () => mailsTo("override@test.example"),
      (m) => m.length === 1,
    );
    await eventually(() => outboxOf("ok-override"), settled);
    const silent = await outboxOf("ok-silent");
    expect(silent.filter((m) => m.channel !== "cloudevent")).toEqual([]);
    expect(
      smtp.mails.filter((m) => m.raw.includes("ok-override") || m.raw.includes("ok-silent")),
    ).toHaveLength(1);
    expect(slack.posts.filter((p) => p.body.includes("ok-override") || p.body.includes("ok-silent"))).toEqual(
      [],
    );
  });
});

describe("event sinks", () => {
  interface CloudEvent {
    specversion: string;
    id: string;
    type: string;
    subject: string;
    source: string;
    data: { phase?: string };
  }
  const eventsOf = (name: string) =>
    sink.posts
      .map((p) => p.json<CloudEvent>())
      .filter((e) => e.subject === `${P.project}/${P.domain}/${name}`);

  it("posts workflow, node and task events as structured CloudEvents, in order", async () => {
    await run("ok", "ce-1");
    await waitPhase("ce-1", TERMINAL);
    await eventually(() => outboxOf("ce-1"), settled);
    const events = eventsOf("ce-1");
    expect(sink.posts[0]?.headers["content-type"]).toBe("application/cloudevents+json");
    expect(events.every((e) => e.specversion === "1.0" && e.source === "https://petrel.example")).toBe(true);
    const types = new Set(events.map((e) => e.type.split(".").pop()));
    expect([...types].sort()).toEqual(["NodeExecution", "TaskExecution", "WorkflowExecution"]);
    const wf = events.filter((e) => e.type.endsWith("WorkflowExecution")).map((e) => e.data.phase);
    expect(wf).toEqual(["QUEUED", "RUNNING", "SUCCEEDING", "SUCCEEDED"].filter((p) => wf.includes(p)));
    expect(wf.at(-1)).toBe("SUCCEEDED");
    expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
  });

  it("delivers what was missed once the receiver is back, in order", async () => {
    sink.down = true;
    await run("ok", "ce-down");
    await waitPhase("ce-down", TERMINAL);
    await eventually(
      async () => sink.refused,
      (n) => n >= 2,
    );
    expect(eventsOf("ce-down")).toEqual([]);
    sink.down = false;
    await eventually(() => outboxOf("ce-down"), settled, 30_000);
    const rows = await outboxOf("ce-down");
    expect(rows.filter((r) => r.state !== "delivered")).toEqual([]);
    const wf = eventsOf("ce-down")
      .filter((e) => e.type.endsWith("WorkflowExecution"))
      .map((e) => e.data.phase);
    expect(wf[0]).toBe("QUEUED");
    expect(wf.at(-1)).toBe("SUCCEEDED");
  });

  it("leaves a message that keeps failing dead, listed for operators and counted in metrics", async () => {
    slack.down = true;
    try {
      await run("ok", "ok-dead");
      await waitPhase("ok-dead", TERMINAL);
      await eventually(
        () => outboxOf("ok-dead"),
        (rows) => rows.some((r) => r.state === "dead"),
        30_000,
      );
    } finally {
      slack.down = false;
    }
    const res = await fetch(`${t.httpBaseUrl}/api/v1/outbox?state=dead`);
    const listed = (await res.json()) as {
      messages: { execution: string; channel: string; attempts: number; lastError: string }[];
    };
    const dead = listed.messages.find((m) => m.execution.endsWith("/ok-dead"));
    expect(dead?.channel).toBe("slack-webhook");
    expect(dead?.attempts).toBe(4);
    expect(dead?.lastError).toContain("503");
    const printed: string[] = [];
    const code = await main(
      ["get", "notifications", "--endpoint", t.grpcAddress, "--http-url", t.httpBaseUrl],
      (s) => printed.push(s),
    );
    expect(code).toBe(0);
    expect(printed.join("\n")).toMatch(
      /dead\s+slack-webhook\s+flytesnacks\/development\/ok-dead\s+SUCCEEDED\s+4/,
    );
    const metrics = await (await fetch(`${t.httpBaseUrl}/metrics`)).text();
    expect(metrics).toMatch(/petrel_outbox_messages\{state="dead"\} [1-9]/);
    expect(metrics).toMatch(/petrel_outbox_deliveries_total\{channel="slack-webhook",outcome="dead"\} 1/);
  });
});

describe("without an SMTP server", () => {
  it("records emails as undeliverable and sends them once one is configured", async () => {
    // Emails wait 500 ms for a replica that can send them before this one records them as undeliverable.
    const plain = await startTestServer({ start: { outbox: { pollMs: 50, unservedAfterMs: 500 } } });
    try {
      await registerFlows(plain.admin, {
        ok: [notification("email", [Phase.SUCCEEDED], ["later@test.example"])],
        fail: [],
        nap: [],
      });
      await plain.admin.createExecution({
        ...P,
        name: "quiet",
        spec: { launchPlan: launchPlanId("ok") },
        inputs: {},
      });
      const res = await eventually(
        async () =>
          (await (await fetch(`${plain.httpBaseUrl}/api/v1/outbox?state=undeliverable`)).json()) as {
            messages: { lastError: string }[];
          },
        (b) => b.messages.length === 1,
        30_000,
      );
      expect(res.messages[0]?.lastError).toContain("--smtp-url");
      // A replica started with an SMTP server sends it, while the one without keeps running and polling.
      const again = await startTestServer({
        database: plain.database,
        env: { PETREL_SMTP_URL: smtp.url },
        start: { outbox: { pollMs: 50 } },
      });
      try {
        await eventually(
          async () => mailsTo("later@test.example"),
          (m) => m.length === 1,
        );
        // With both running, every new email goes to the replica that can send it.
        for (let i = 0; i < 8; i++) {
          await plain.admin.createExecution({
            ...P,
            name: `both-${i}`,
            spec: { launchPlan: launchPlanId("ok") },
            inputs: {},
          });
        }
        await eventually(
          async () => mailsTo("later@test.example"),
          (m) => m.length === 9,
          30_000,
        );
        const left = (await (
          await fetch(`${plain.httpBaseUrl}/api/v1/outbox?state=undeliverable`)
        ).json()) as { messages: unknown[] };
        expect(left.messages).toEqual([]);
      } finally {
        await again.server.stop(2_000);
      }
    } finally {
      await plain.stop();
    }
  });
});
