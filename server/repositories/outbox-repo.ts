// The message outbox (notifications and event-sink CloudEvents): one function per statement. Messages are claimed
// with a lease (FOR UPDATE SKIP LOCKED, so replicas share the work); a stream's messages are claimed only from its
// head, so one replica at a time delivers a stream, in id order.
import type { Knex } from "knex";
import { type TypedColumns, unnestTable } from "./multi-row.js";
import { withDbErrors } from "./pg-errors.js";

export type OutboxChannel = "email" | "slack-webhook" | "webhook" | "cloudevent";
export type OutboxState = "pending" | "delivered" | "dead" | "undeliverable";
export const OUTBOX_STATES: readonly OutboxState[] = ["pending", "delivered", "dead", "undeliverable"];

/** A message to write: `payload` is JSON text. */
export interface OutboxInsert {
  readonly channel: OutboxChannel;
  readonly target: string;
  readonly stream: string | null;
  readonly execution: string;
  readonly payload: string;
}

export interface OutboxRow {
  readonly id: string;
  readonly channel: OutboxChannel;
  readonly target: string;
  readonly stream: string | null;
  readonly execution: string;
  readonly payload: Record<string, unknown>;
  readonly state: OutboxState;
  readonly attempts: number;
  readonly next_attempt_at: Date;
  readonly last_error: string;
  readonly created_at: Date;
  readonly updated_at: Date;
}

export const OUTBOX_COLUMNS: TypedColumns<OutboxInsert> = [
  ["channel", "text"],
  ["target", "text"],
  ["stream", "text"],
  ["execution", "text"],
  ["payload", "text"],
];

/** `INSERT … SELECT` of the messages from an unnest table (ids follow the array order). */
export function insertOutboxSql(rows: readonly OutboxInsert[]): { sql: string; bindings: unknown[] } {
  const t = unnestTable("v", OUTBOX_COLUMNS, rows);
  return {
    sql: `INSERT INTO outbox_messages (channel, target, stream, execution, payload)
      SELECT v.channel, v.target, v.stream, v.execution, v.payload::jsonb FROM ${t.sql}`,
    bindings: t.bindings,
  };
}

export async function insertOutboxMessages(db: Knex, rows: readonly OutboxInsert[]): Promise<void> {
  if (rows.length === 0) return;
  const { sql, bindings } = insertOutboxSql(rows);
  await withDbErrors(() => db.raw(sql, bindings as Knex.RawBinding[]));
}

/** What one claim takes. */
export interface OutboxClaim {
  readonly owner: string;
  readonly leaseMs: number;
  /** Stream heads at most. */
  readonly limit: number;
  /** Messages of one stream at most (its head included). */
  readonly perStream: number;
  /** The channels the claimer can deliver; others' messages are taken only once due for `unservedAfterMs`. */
  readonly channels: readonly OutboxChannel[];
  readonly unservedAfterMs: number;
}

/**
 * Leases up to `limit` stream heads (due, unleased, no earlier pending message in their stream) and, with each
 * head, up to `perStream` of its stream's next messages. Returned in id order. A message of a channel the claimer
 * cannot deliver is left for a replica that can until it has waited `unservedAfterMs`.
 */
export function claimOutboxMessages(db: Knex, c: OutboxClaim): Promise<OutboxRow[]> {
  return withDbErrors(async () => {
    const r = await db.raw(
      `WITH heads AS (
         SELECT id, stream FROM outbox_messages o
          WHERE state = 'pending' AND next_attempt_at <= now() AND (lease_until IS NULL OR lease_until < now())
            AND (channel = ANY(?::text[]) OR next_attempt_at <= now() - (? || ' milliseconds')::interval)
            AND (stream IS NULL OR NOT EXISTS (
                  SELECT 1 FROM outbox_messages p WHERE p.stream = o.stream AND p.state = 'pending' AND p.id < o.id))
          ORDER BY next_attempt_at, id LIMIT ? FOR UPDATE SKIP LOCKED),
       followers AS (
         SELECT f.id FROM heads h CROSS JOIN LATERAL (
           SELECT id FROM outbox_messages f
            WHERE f.stream = h.stream AND f.state = 'pending' AND f.id > h.id
              AND (f.lease_until IS NULL OR f.lease_until < now())
            ORDER BY f.id LIMIT ?) f
          WHERE h.stream IS NOT NULL)
       UPDATE outbox_messages m SET leased_by = ?, lease_until = now() + (? || ' milliseconds')::interval
        WHERE m.id IN (SELECT id FROM heads UNION ALL SELECT id FROM followers)
       RETURNING m.*`,
      [
        [...c.channels],
        String(c.unservedAfterMs),
        c.limit,
        Math.max(0, c.perStream - 1),
        c.owner,
        String(c.leaseMs),
      ],
    );
    const rows = (r as { rows: OutboxRow[] }).rows;
    return rows.sort((a, b) => (BigInt(a.id) < BigInt(b.id) ? -1 : 1));
  });
}

export async function markOutboxDelivered(db: Knex, ids: readonly string[], owner: string): Promise<number> {
  if (ids.length === 0) return 0;
  return withDbErrors(async () => {
    const r = await db.raw(
      `UPDATE outbox_messages SET state = 'delivered', attempts = attempts + 1, leased_by = NULL,
              lease_until = NULL, last_error = '', updated_at = now()
        WHERE id = ANY(?::bigint[]) AND leased_by = ? AND state = 'pending'`,
      [[...ids], owner],
    );
    return (r as { rowCount: number }).rowCount;
  });
}

/** One failed attempt: retried after `retryMs`, or dead after `maxAttempts`. Returns the new state. */
export function markOutboxFailed(
  db: Knex,
  id: string,
  owner: string,
  error: string,
  retryMs: number,
  maxAttempts: number,
): Promise<OutboxState | undefined> {
  return withDbErrors(async () => {
    const r = await db.raw(
      `UPDATE outbox_messages SET attempts = attempts + 1, last_error = ?, leased_by = NULL, lease_until = NULL,
              state = CASE WHEN attempts + 1 >= ? THEN 'dead' ELSE 'pending' END,
              next_attempt_at = now() + (? || ' milliseconds')::interval, updated_at = now()
        WHERE id = ? AND leased_by = ? AND state = 'pending'
       RETURNING state`,
      [error.slice(0, 2000), maxAttempts, String(Math.round(retryMs)), id, owner],
    );
    return (r as { rows: { state: OutboxState }[] }).rows[0]?.state;
  });
}

/** Messages no configured sender can deliver: kept, with the reason (delivered once a sender is configured). */
export async function markOutboxUndeliverable(
  db: Knex,
  id: string,
  owner: string,
  reason: string,
): Promise<void> {
  await withDbErrors(() =>
    db.raw(
      `UPDATE outbox_messages SET state = 'undeliverable', last_error = ?, leased_by = NULL, lease_until = NULL,
              updated_at = now()
        WHERE id = ? AND leased_by = ? AND state = 'pending'`,
      [reason, id, owner],
    ),
  );
}

/** Hands leased messages back (a stream's later messages after its head failed, or at stop). */
export async function releaseOutboxMessages(db: Knex, ids: readonly string[], owner: string): Promise<void> {
  if (ids.length === 0) return;
  await withDbErrors(() =>
    db.raw(
      "UPDATE outbox_messages SET leased_by = NULL, lease_until = NULL WHERE id = ANY(?::bigint[]) AND leased_by = ?",
      [[...ids], owner],
    ),
  );
}

/** Undeliverable messages of the channels a sender now serves go back to pending. */
export function reviveOutboxMessages(db: Knex, channels: readonly OutboxChannel[]): Promise<number> {
  if (channels.length === 0) return Promise.resolve(0);
  return withDbErrors(async () => {
    const r = await db.raw(
      `UPDATE outbox_messages SET state = 'pending', next_attempt_at = now(), last_error = '', updated_at = now()
        WHERE state = 'undeliverable' AND channel = ANY(?)`,
      [[...channels]],
    );
    return (r as { rowCount: number }).rowCount;
  });
}

/** Deletes delivered messages older than `ageMs`, at most `limit` at a time. */
export function pruneOutboxMessages(db: Knex, ageMs: number, limit: number): Promise<number> {
  return withDbErrors(async () => {
    const r = await db.raw(
      `DELETE FROM outbox_messages WHERE id IN (
         SELECT id FROM outbox_messages
          WHERE state = 'delivered' AND updated_at < now() - (? || ' milliseconds')::interval LIMIT ?)`,
      [String(ageMs), limit],
    );
    return (r as { rowCount: number }).rowCount;
  });
}

export function listOutboxMessages(
  db: Knex,
  states: readonly OutboxState[],
  limit: number,
): Promise<OutboxRow[]> {
  return withDbErrors(
    () =>
      db("outbox_messages")
        .select("*")
        .whereIn("state", [...states])
        .orderBy("id", "desc")
        .limit(limit) as Promise<OutboxRow[]>,
  );
}

export function countOutboxByState(db: Knex): Promise<{ state: OutboxState; count: number }[]> {
  return withDbErrors(async () => {
    const r = await db.raw("SELECT state, count(*)::int AS count FROM outbox_messages GROUP BY state");
    return (r as { rows: { state: OutboxState; count: number }[] }).rows;
  });
}
