// How each channel delivers one outbox message: email through SMTP (nodemailer, an optional package loaded only
// when --smtp-url is set), Slack incoming webhooks, generic JSON webhooks signed with an HMAC header, and
// CloudEvents (structured mode) to event sinks. A delivery that throws is retried by the sender.
import { createHmac } from "node:crypto";
import type { MessageTemplate } from "../config-notifications.js";
import type { OutboxChannel, OutboxRow } from "../repositories/outbox-repo.js";
import { DEFAULT_TEMPLATE, renderMessage } from "./message-template.js";
import type { NotificationPayload } from "./outbox-collector.js";

export type Deliver = (m: OutboxRow) => Promise<void>;

export interface DelivererOptions {
  readonly smtpUrl: string | undefined;
  readonly from: string;
  readonly template: MessageTemplate | undefined;
  readonly webhookSecret: string | undefined;
  /** The server's public HTTP URL (console links). */
  readonly publicBase: string;
  readonly timeoutMs?: number;
}

export const SIGNATURE_HEADER = "x-petrel-signature";

async function post(url: string, body: string, headers: Record<string, string>, timeoutMs: number) {
  const res = await fetch(url, {
    method: "POST",
    body,
    headers,
    signal: AbortSignal.timeout(timeoutMs),
  });
  await res.arrayBuffer().catch(() => undefined);
  if (!res.ok) throw new Error(`${url} answered ${res.status} ${res.statusText}`);
}

/** The deliverers of the channels this server can serve (email only with an SMTP server). */
export async function createDeliverers(
  o: DelivererOptions,
): Promise<{ deliverers: Partial<Record<OutboxChannel, Deliver>>; close: () => void }> {
  const timeoutMs = o.timeoutMs ?? 10_000;
  const template = o.template ?? DEFAULT_TEMPLATE;
  const render = (m: OutboxRow) =>
    renderMessage(template, m.payload as unknown as NotificationPayload, o.publicBase);
  const deliverers: Partial<Record<OutboxChannel, Deliver>> = {
    "slack-webhook": async (m) => {
      const r = render(m);
      await post(
        m.target,
        JSON.stringify({ text: `*${r.subject}*\n${r.body}` }),
        { "content-type": "application/json" },
        timeoutMs,
      );
    },
    webhook: async (m) => {
      const r = render(m);
      const body = JSON.stringify({ id: m.id, ...m.payload, subject: r.subject, body: r.body, url: r.url });
      const headers: Record<string, string> = {
        "content-type": "application/json",
        "x-petrel-delivery": m.id,
      };
      if (o.webhookSecret !== undefined)
        headers[SIGNATURE_HEADER] =
          `sha256=${createHmac("sha256", o.webhookSecret).update(body).digest("hex")}`;
      await post(m.target, body, headers, timeoutMs);
    },
    cloudevent: (m) =>
      post(
        m.target,
        JSON.stringify(m.payload),
        { "content-type": "application/cloudevents+json" },
        timeoutMs,
      ),
  };
  let close = () => {};
  if (o.smtpUrl !== undefined) {
    const nodemailer = await import("nodemailer");
    // Pooled: connections are reused across messages (up to 5 at once) unless the URL says otherwise.
    const url = new URL(o.smtpUrl);
    if (!url.searchParams.has("pool")) url.searchParams.set("pool", "true");
    const transport = nodemailer.createTransport(url.toString());
    close = () => transport.close();
    deliverers.email = async (m) => {
      const r = render(m);
      await transport.sendMail({ from: o.from, to: m.target, subject: r.subject, text: r.body });
    };
  }
  return { deliverers, close };
}
