// The composition root's view of notifications and event sinks: the outbox policy the engine and the event rpcs
// write with, the background sender with its deliverers and metrics, and the start-time warning when notifications
// are asked for but no SMTP server is configured.
import { fromBinary } from "@bufbuild/protobuf";
import type { Knex } from "knex";
import { Counter, Gauge, type Registry } from "prom-client";
import { LaunchPlanSpecSchema } from "../../gen/flyteidl/admin/launch_plan_pb.js";
import type { PetrelConfig } from "../config.js";
import type { Logger } from "../logger.js";
import { countOutboxByState, OUTBOX_STATES } from "../repositories/outbox-repo.js";
import { createDeliverers } from "./deliverers.js";
import type { OutboxPolicy } from "./outbox-collector.js";
import { OutboxSender, type OutboxSenderOptions } from "./outbox-sender.js";

export function outboxPolicy(config: PetrelConfig): OutboxPolicy {
  return { eventSinks: config.eventSinkUrls, source: config.publicUrl ?? "petrel" };
}

/** Whether any recent launch plan or waiting message asks for email (checked at start without an SMTP server). */
async function emailRequested(db: Knex): Promise<boolean> {
  const waiting = await db("outbox_messages")
    .where({ channel: "email" })
    .whereIn("state", ["pending", "undeliverable"])
    .first("id");
  if (waiting !== undefined) return true;
  const rows = (await db("launch_plans").select("spec").orderBy("id", "desc").limit(500)) as {
    spec: Buffer;
  }[];
  return rows.some((r) =>
    fromBinary(LaunchPlanSpecSchema, r.spec).entityMetadata?.notifications.some((n) =>
      n.type.value?.recipientsEmail.some((x) => !/^https?:\/\//i.test(x)),
    ),
  );
}

function outboxMetrics(registry: Registry, db: Knex, logger: Logger) {
  new Gauge({
    name: "petrel_outbox_messages",
    help: "Outbox messages (notifications, event-sink CloudEvents) by state: pending, delivered, dead, undeliverable",
    labelNames: ["state"],
    registers: [registry],
    async collect() {
      const rows = await countOutboxByState(db).catch((err: unknown) => {
        logger.warn("metrics: reading the outbox failed", { error: err });
      });
      if (rows === undefined) return;
      this.reset();
      for (const s of OUTBOX_STATES) this.set({ state: s }, 0);
      for (const r of rows) this.set({ state: r.state }, r.count);
    },
  });
  return new Counter({
    name: "petrel_outbox_deliveries_total",
    help: "Outbox delivery attempts by channel and outcome (delivered, retry, dead, undeliverable)",
    labelNames: ["channel", "outcome"],
    registers: [registry],
  });
}

export interface NotificationService {
  stop(): Promise<void>;
}

export async function startNotifications(
  db: Knex,
  config: PetrelConfig,
  logger: Logger,
  registry: Registry,
  publicBase: string,
  opts: Partial<OutboxSenderOptions> = {},
): Promise<NotificationService> {
  if (config.smtpUrl === undefined && (await emailRequested(db).catch(() => false))) {
    logger.warn(
      "notifications ask for email but no SMTP server is configured (--smtp-url): they are recorded as undeliverable, and sent once one is",
    );
  }
  // Claims are leased as long as the engine's: a killed replica's messages are retaken as soon as its work is.
  const options = { leaseMs: config.engineLeaseMs, ...opts };
  const { deliverers, close } = await createDeliverers({
    smtpUrl: config.smtpUrl,
    from: config.notificationsFrom,
    template: config.notificationsTemplate,
    webhookSecret: config.webhookSecret,
    publicBase,
    // A delivery gives up well within its lease, so no other replica takes the message while it is under way.
    timeoutMs: Math.min(10_000, options.leaseMs / 3),
  });
  const deliveries = outboxMetrics(registry, db, logger);
  const sender = new OutboxSender(db, deliverers, logger, options, (channel, outcome) =>
    deliveries.inc({ channel, outcome }),
  );
  await sender.start();
  return {
    async stop() {
      await sender.stop();
      close();
    },
  };
}
