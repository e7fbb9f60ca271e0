// `petrel get notifications [--state S,…] [--limit N] [--http-url URL] [-o table|json]`: the server's outbox of
// notifications and event-sink messages (dead and undeliverable ones by default), read from its HTTP port.
import { flag, type ParsedArgs, UsageError } from "./args.js";

interface OutboxMessage {
  readonly id: string;
  readonly channel: string;
  readonly target: string;
  readonly execution: string;
  readonly state: string;
  readonly attempts: number;
  readonly lastError: string;
  readonly phase: string;
  readonly updatedAt: string;
}

/** The HTTP port's URL: --http-url, else the gRPC endpoint's host on port 8088 (the server's default). */
export function httpUrlOf(a: ParsedArgs): string {
  const given = flag(a, "--http-url");
  if (given !== undefined) return given.replace(/\/+$/, "");
  const endpoint = flag(a, "--endpoint") ?? "localhost:8089";
  const secure = endpoint.startsWith("https://") || flag(a, "--ca-file") !== undefined;
  const host = endpoint.replace(/^[a-z]+:\/\//, "").replace(/:\d+$/, "");
  return `${secure ? "https" : "http"}://${host}:8088`;
}

export async function notificationsCommand(a: ParsedArgs, out: (s: string) => void): Promise<number> {
  const state = flag(a, "--state") ?? "dead,undeliverable";
  const limit = flag(a, "--limit") ?? "100";
  const token = flag(a, "--token");
  const url = `${httpUrlOf(a)}/api/v1/outbox?state=${encodeURIComponent(state)}&limit=${encodeURIComponent(limit)}`;
  const res = await fetch(url, token === undefined ? {} : { headers: { authorization: `Bearer ${token}` } });
  if (res.status === 400) throw new UsageError((await res.text()).trim());
  if (!res.ok) throw new Error(`${url}: ${res.status} ${res.statusText}`);
  const { messages } = (await res.json()) as { messages: OutboxMessage[] };
  if ((flag(a, "--output") ?? "table") === "json") {
    out(JSON.stringify(messages, null, 2));
    return 0;
  }
  const rows = [
    ["ID", "STATE", "CHANNEL", "EXECUTION", "PHASE", "ATTEMPTS", "TARGET", "LAST ERROR"],
    ...messages.map((m) => [
      m.id,
      m.state,
      m.channel,
      m.execution,
      m.phase,
      String(m.attempts),
      m.target,
      m.lastError.replace(/\s+/g, " ").slice(0, 80),
    ]),
  ];
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length))) ?? [];
  out(
    rows
      .map((r) =>
        r
          .map((c, i) => c.padEnd(widths[i] ?? 0))
          .join("  ")
          .trimEnd(),
      )
      .join("\n"),
  );
  return 0;
}
