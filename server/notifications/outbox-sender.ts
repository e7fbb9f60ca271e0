// Delivers the outbox in the background; every replica runs one and they share the work (claims are leased with
// FOR UPDATE SKIP LOCKED). At least once: a message is marked delivered only after its receiver took it, so a crash
// between the two sends it again (webhooks carry the message id, CloudEvents their own id, for deduplication).
// Failures are retried with exponential backoff and jitter, then left dead for operators (`petrel get
// notifications`, the petrel_outbox_messages metric). A stream (one execution's events to one sink) is delivered
// in order: its next message waits until the one before is delivered or dead.
import { randomUUID } from "node:crypto";
import type { Knex } from "knex";
import type { Logger } from "../logger.js";
import {
  claimOutboxMessages,
  markOutboxDelivered,
  markOutboxFailed,
  markOutboxUndeliverable,
  type OutboxChannel,
  type OutboxRow,
  type OutboxState,
  pruneOutboxMessages,
  releaseOutboxMessages,
  reviveOutboxMessages,
} from "../repositories/outbox-repo.js";
import type { Deliver } from "./deliverers.js";

export interface OutboxSenderOptions {
  readonly pollMs: number;
  readonly leaseMs: number;
  /** Stream heads claimed at once. */
  readonly batch: number;
  /** Messages of one stream delivered per claim. */
  readonly perStream: number;
  readonly maxAttempts: number;
  readonly backoffMs: number;
  readonly maxBackoffMs: number;
  /** Delivered messages are deleted after this long. */
  readonly retainMs: number;
  /**
   * A message of a channel this replica cannot send (email without `--smtp-url`) is left to a replica that can
   * for this long, then recorded as undeliverable.
   */
  readonly unservedAfterMs: number;
}

export const DEFAULT_SENDER_OPTIONS: OutboxSenderOptions = {
  pollMs: 500,
  leaseMs: 60_000,
  batch: 32,
  perStream: 50,
  maxAttempts: 10,
  backoffMs: 1_000,
  maxBackoffMs: 300_000,
  retainMs: 7 * 24 * 3_600_000,
  unservedAfterMs: 10_000,
};

export type DeliveryOutcome = "delivered" | "retry" | "dead" | "undeliverable";

/** Backoff before attempt `attempts + 1`: exponential with full jitter in its upper half. */
export function retryDelayMs(attempts: number, o: Pick<OutboxSenderOptions, "backoffMs" | "maxBackoffMs">) {
  const ceiling = Math.min(o.maxBackoffMs, o.backoffMs * 2 ** Math.min(attempts, 30));
  return ceiling / 2 + Math.random() * (ceiling / 2);
}

export class OutboxSender {
  private readonly owner = `outbox-${randomUUID().slice(0, 8)}`;
  private readonly o: OutboxSenderOptions;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = true;
  private warnedUndeliverable = false;
  private lastPrune = 0;

  constructor(
    private readonly db: Knex,
    private readonly deliverers: Partial<Record<OutboxChannel, Deliver>>,
    private readonly logger: Logger,
    opts: Partial<OutboxSenderOptions> = {},
    private readonly onOutcome: (channel: OutboxChannel, outcome: DeliveryOutcome) => void = () => {},
  ) {
    this.o = { ...DEFAULT_SENDER_OPTIONS, ...opts };
  }

  async start(): Promise<void> {
    this.stopped = false;
    const revived = await reviveOutboxMessages(this.db, this.served());
    if (revived > 0) this.logger.info("outbox: undeliverable messages queued again", { count: revived });
    this.schedule(0);
  }

  /** Stops claiming and waits for the deliveries under way (their leases are released). */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  private served(): OutboxChannel[] {
    return Object.keys(this.deliverers) as OutboxChannel[];
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.tick()
        .then((full) => this.schedule(full ? 0 : this.o.pollMs))
        .catch((err: unknown) => {
          this.logger.warn("outbox: claiming messages failed", { error: err });
          this.schedule(this.o.pollMs * 4);
        });
    }, ms);
  }

  /** One round: claims, delivers each stream in order, records the outcomes. True when the claim was full. */
  private async tick(): Promise<boolean> {
    if (Date.now() - this.lastPrune > 3_600_000) {
      this.lastPrune = Date.now();
      await pruneOutboxMessages(this.db, this.o.retainMs, 10_000);
    }
    const claimed = await claimOutboxMessages(this.db, {
      owner: this.owner,
      leaseMs: this.o.leaseMs,
      limit: this.o.batch,
      perStream: this.o.perStream,
      channels: this.served(),
      unservedAfterMs: this.o.unservedAfterMs,
    });
    const streams = new Map<string, OutboxRow[]>();
    for (const m of claimed) {
      const key = m.stream ?? `#${m.id}`;
      const list = streams.get(key);
      if (list === undefined) streams.set(key, [m]);
      else list.push(m);
    }
    // Delivered messages are marked in one statement per round (a failure marks its stream's earlier ones first).
    const delivered = await Promise.all([...streams.values()].map((s) => this.deliverStream(s)));
    await markOutboxDelivered(this.db, delivered.flat(), this.owner);
    const heads = new Set(claimed.map((m) => m.stream ?? m.id)).size;
    return heads >= this.o.batch;
  }

  private async deliverStream(messages: readonly OutboxRow[]): Promise<string[]> {
    const delivered: string[] = [];
    for (let i = 0; i < messages.length; i++) {
      const m = messages[i] as OutboxRow;
      if (this.stopped) {
        await releaseOutboxMessages(
          this.db,
          messages.slice(i).map((x) => x.id),
          this.owner,
        );
        break;
      }
      const deliver = this.deliverers[m.channel];
      if (deliver === undefined) {
        await this.undeliverable(m);
        continue;
      }
      try {
        await deliver(m);
        delivered.push(m.id);
        this.onOutcome(m.channel, "delivered");
      } catch (err) {
        await markOutboxDelivered(this.db, delivered.splice(0), this.owner);
        const state = await markOutboxFailed(
          this.db,
          m.id,
          this.owner,
          err instanceof Error ? err.message : String(err),
          retryDelayMs(m.attempts, this.o),
          this.o.maxAttempts,
        );
        this.failed(m, state, err);
        // A dead message no longer holds its stream back; a retried one does.
        if (state !== "dead") {
          await releaseOutboxMessages(
            this.db,
            messages.slice(i + 1).map((x) => x.id),
            this.owner,
          );
          break;
        }
      }
    }
    return delivered;
  }

  private failed(m: OutboxRow, state: OutboxState | undefined, err: unknown): void {
    const dead = state === "dead";
    this.onOutcome(m.channel, dead ? "dead" : "retry");
    const log = dead ? this.logger.error.bind(this.logger) : this.logger.warn.bind(this.logger);
    log(dead ? "outbox: message dead after its last attempt" : "outbox: delivery failed; will retry", {
      id: m.id,
      channel: m.channel,
      target: m.target,
      execution: m.execution,
      attempts: m.attempts + 1,
      error: err,
    });
  }

  private async undeliverable(m: OutboxRow): Promise<void> {
    const reason =
      m.channel === "email" ? "no SMTP server configured (--smtp-url)" : `no sender for ${m.channel}`;
    await markOutboxUndeliverable(this.db, m.id, this.owner, reason);
    this.onOutcome(m.channel, "undeliverable");
    if (!this.warnedUndeliverable) {
      this.warnedUndeliverable = true;
      this.logger.warn("outbox: a notification cannot be sent and was recorded as undeliverable", {
        id: m.id,
        channel: m.channel,
        execution: m.execution,
        reason,
      });
    }
  }
}
