// Notification text: the operator's template (config --notifications-template) or the built-in one, with
// `{{ placeholder }}`s filled from the message: project, domain, name, phase, duration, error, url, workflow.
import { executionConsoleUrl } from "../../common/console-urls.js";
import type { MessageTemplate } from "../config-notifications.js";
import type { NotificationPayload } from "./outbox-collector.js";

export const DEFAULT_TEMPLATE: MessageTemplate = {
  subject: "Petrel: execution {{ name }} {{ phase }} in {{ project }}/{{ domain }}",
  body: [
    "Execution {{ project }}/{{ domain }}/{{ name }} of {{ workflow }} is {{ phase }} after {{ duration }}.",
    "{{ error }}",
    "{{ url }}",
    "",
  ].join("\n"),
};

export function formatDuration(seconds: number): string {
  if (seconds < 60) return `${Math.round(seconds * 10) / 10}s`;
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h > 0 ? `${h}h${m}m${s % 60}s` : `${m}m${s % 60}s`;
}

export interface RenderedMessage {
  readonly subject: string;
  readonly body: string;
  readonly url: string;
}

export function renderMessage(
  template: MessageTemplate,
  p: NotificationPayload,
  publicBase: string,
): RenderedMessage {
  const url = executionConsoleUrl(publicBase, p);
  const values: Record<string, string> = {
    project: p.project,
    domain: p.domain,
    name: p.name,
    phase: p.phase,
    duration: formatDuration(p.duration),
    error: p.error === null ? "" : `Error ${p.error.code} (${p.error.kind}): ${p.error.message}`,
    url,
    workflow: p.workflow,
    kind: p.kind,
  };
  const fill = (text: string) =>
    text.replace(/\{\{\s*([a-z_]+)\s*\}\}/g, (whole, key: string) => values[key] ?? whole);
  return { subject: fill(template.subject).replace(/\s+/g, " ").trim(), body: fill(template.body), url };
}
