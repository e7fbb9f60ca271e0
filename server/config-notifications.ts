// Notifications and event sinks: the SMTP server and sender of emails, the message template, the key that signs
// generic webhooks, and the HTTP endpoints that receive every execution, node and task event as a CloudEvent.
import fs from "node:fs";
import path from "node:path";

export interface MessageTemplate {
  readonly subject: string;
  readonly body: string;
}

export interface NotificationsConfig {
  /** `smtp://[user:pass@]host[:port]` or `smtps://…`; unset → emails are recorded as undeliverable. */
  readonly smtpUrl: string | undefined;
  /** The From of notification emails. */
  readonly notificationsFrom: string;
  /** Subject and body with `{{ placeholders }}`; unset → the built-in template. */
  readonly notificationsTemplate: MessageTemplate | undefined;
  /** Signs generic webhook posts (`X-Petrel-Signature: sha256=<hex hmac of the body>`). */
  readonly webhookSecret: string | undefined;
  /** Endpoints that receive every event as a CloudEvent (structured mode JSON). */
  readonly eventSinkUrls: readonly string[];
}

type Read = (key: keyof NotificationsConfig) => { value: string; source: string } | undefined;

const HTTP_URL = /^https?:\/\/[^/?#\s]+(\/\S*)?$/i;

/** A template file: a `Subject: …` line, a blank line, then the body (as an email is written). */
export function parseTemplate(text: string): MessageTemplate | undefined {
  const m = /^Subject:[ \t]*(.*)\r?\n\r?\n([\s\S]*)$/.exec(text);
  return m === null ? undefined : { subject: m[1] ?? "", body: m[2] ?? "" };
}

export function readNotificationSettings(read: Read, cwd: string, problems: string[]): NotificationsConfig {
  const smtp = read("smtpUrl");
  if (smtp !== undefined && !/^smtps?:\/\/[^/?#\s]+\/?(\?\S*)?$/i.test(smtp.value)) {
    problems.push(`${smtp.source}: "${smtp.value}" must be an smtp:// or smtps:// URL`);
  }
  const from = read("notificationsFrom");
  const file = read("notificationsTemplate");
  let template: MessageTemplate | undefined;
  if (file !== undefined) {
    const p = path.resolve(cwd, file.value);
    let text: string | undefined;
    try {
      text = fs.readFileSync(p, "utf8");
    } catch (err) {
      problems.push(`${file.source}: cannot read "${p}" (${(err as Error).message})`);
    }
    if (text !== undefined) {
      template = parseTemplate(text);
      if (template === undefined)
        problems.push(`${file.source}: "${p}" must start with a "Subject: …" line and a blank line`);
    }
  }
  const sinks = read("eventSinkUrls");
  const urls = (sinks?.value ?? "")
    .split(",")
    .map((u) => u.trim())
    .filter((u) => u !== "");
  for (const u of urls)
    if (!HTTP_URL.test(u)) problems.push(`${sinks?.source}: "${u}" is not an http(s) URL`);
  return {
    smtpUrl: smtp?.value,
    notificationsFrom: from?.value ?? "Petrel <petrel@localhost>",
    notificationsTemplate: template,
    webhookSecret: read("webhookSecret")?.value,
    eventSinkUrls: Object.freeze([...new Set(urls)]),
  };
}
