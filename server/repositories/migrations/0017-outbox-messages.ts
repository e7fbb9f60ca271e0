// The message outbox: notifications (email, Slack, PagerDuty, webhooks) and CloudEvents for event sinks, written in
// the transaction that changed the phase and delivered after commit by a sender every replica runs. Messages that
// share a stream (one execution's events to one sink) are delivered in id order.
import type { Knex } from "knex";

export async function up(db: Knex): Promise<void> {
  await db.schema.raw(`CREATE TABLE outbox_messages (
    id bigserial PRIMARY KEY,
    channel text NOT NULL,
    target text NOT NULL,
    stream text,
    execution text NOT NULL,
    payload jsonb NOT NULL,
    state text NOT NULL DEFAULT 'pending',
    attempts int NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    leased_by text,
    lease_until timestamptz,
    last_error text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
  )`);
  await db.schema.raw(
    "CREATE INDEX outbox_messages_due_idx ON outbox_messages (next_attempt_at, id) WHERE state = 'pending'",
  );
  await db.schema.raw(
    "CREATE INDEX outbox_messages_stream_idx ON outbox_messages (stream, id) WHERE state = 'pending' AND stream IS NOT NULL",
  );
  await db.schema.raw("CREATE INDEX outbox_messages_state_idx ON outbox_messages (state, id)");
}
