// GET /api/v1/outbox?state=dead,undeliverable&limit=N: the outbox's messages for operators (`petrel get
// notifications`), newest first, as JSON.
import type { Knex } from "knex";
import { listOutboxMessages, OUTBOX_STATES, type OutboxState } from "../repositories/outbox-repo.js";
import type { HttpRoute } from "./http-routes.js";

export const OUTBOX_PATH = "/api/v1/outbox";

export function outboxRoute(db: Knex): HttpRoute {
  return (req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    if (url.pathname !== OUTBOX_PATH || req.method !== "GET") return false;
    const asked = (url.searchParams.get("state") ?? "").split(",").filter((s) => s !== "");
    const states = asked.length === 0 ? OUTBOX_STATES : asked;
    const bad = states.filter((s) => !OUTBOX_STATES.includes(s as OutboxState));
    const limit = Number(url.searchParams.get("limit") ?? "100");
    if (bad.length > 0 || !Number.isInteger(limit) || limit < 1 || limit > 10_000) {
      res
        .writeHead(400, { "content-type": "text/plain" })
        .end(`bad request: state is one or more of ${OUTBOX_STATES.join(",")}; limit is 1 to 10000\n`);
      return true;
    }
    return listOutboxMessages(db, states as OutboxState[], limit).then((rows) => {
      const messages = rows.map((m) => ({
        id: m.id,
        channel: m.channel,
        target: m.target,
        execution: m.execution,
        state: m.state,
        attempts: m.attempts,
        lastError: m.last_error,
        phase: typeof m.payload.phase === "string" ? m.payload.phase : (m.payload.type ?? ""),
        createdAt: m.created_at.toISOString(),
        updatedAt: m.updated_at.toISOString(),
      }));
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ messages }));
    });
  };
}
