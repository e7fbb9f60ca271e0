// Prometheus metrics (prom-client), one registry per server: rpcs by method and code, executions by phase, the
// engine's queue and claims, task attempts by plugin and outcome, and the database pool. Counts that live in
// Postgres are read at scrape time; engine events arrive on diagnostics channels (engine-events.ts).
import type { Knex } from "knex";
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import type { Logger } from "../logger.js";
import { countExecutionsByPhase, countWorkByState } from "../repositories/metrics-repo.js";
import {
  type AttemptEvent,
  attemptChannel,
  type ClaimEvent,
  claimChannel,
  type PhaseEvent,
  phaseChannel,
} from "./engine-events.js";

const PHASES = [
  "UNDEFINED",
  "QUEUED",
  "RUNNING",
  "SUCCEEDING",
  "SUCCEEDED",
  "FAILING",
  "FAILED",
  "ABORTED",
  "TIMED_OUT",
  "ABORTING",
];
const WORK_STATES = ["ready", "leased", "waiting"];

interface TarnPool {
  numUsed(): number;
  numFree(): number;
  numPendingAcquires(): number;
  max: number;
}

export class PetrelMetrics {
  readonly registry = new Registry();
  readonly rpcs: Counter<"service" | "method" | "code">;
  readonly rpcSeconds: Histogram<"service" | "method" | "code">;
  private readonly claimSeconds: Histogram;
  private readonly claimedItems: Counter;
  private readonly attempts: Counter<"plugin" | "outcome">;
  private readonly phaseChanges: Counter<"phase">;
  private readonly unsubscribe: Array<() => void> = [];

  constructor(db: Knex, logger: Logger) {
    const registers = [this.registry];
    this.rpcs = new Counter({
      name: "petrel_rpc_requests_total",
      help: "Rpcs handled, by service, method and status code (gRPC, Connect, gRPC-Web and REST alike)",
      labelNames: ["service", "method", "code"],
      registers,
    });
    this.rpcSeconds = new Histogram({
      name: "petrel_rpc_duration_seconds",
      help: "Rpc latency in seconds, by service, method and status code",
      labelNames: ["service", "method", "code"],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    const scrapeFailed = (what: string) => (err: unknown) =>
      logger.warn(`metrics: reading ${what} failed`, { error: err });
    new Gauge({
      name: "petrel_executions",
      help: "Workflow executions in the database, by phase",
      labelNames: ["phase"],
      registers,
      async collect() {
        const rows = await countExecutionsByPhase(db).catch(scrapeFailed("executions"));
        if (rows === undefined) return;
        this.reset();
        for (const p of PHASES) this.set({ phase: p }, 0);
        for (const r of rows) this.set({ phase: r.phase }, r.count);
      },
    });
    new Gauge({
      name: "petrel_engine_queue_depth",
      help: "Engine work items, by state: ready (due, unclaimed), leased (being worked on), waiting (due later)",
      labelNames: ["state"],
      registers,
      async collect() {
        const rows = await countWorkByState(db).catch(scrapeFailed("the work queue"));
        if (rows === undefined) return;
        for (const s of WORK_STATES) this.set({ state: s }, 0);
        for (const r of rows) this.set({ state: r.state }, r.count);
      },
    });
    this.claimSeconds = new Histogram({
      name: "petrel_engine_claim_duration_seconds",
      help: "How long one claim of work items from the database took",
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
      registers,
    });
    this.claimedItems = new Counter({
      name: "petrel_engine_claimed_items_total",
      help: "Work items claimed from the database",
      registers,
    });
    this.attempts = new Counter({
      name: "petrel_task_attempts_total",
      help: "Task attempts run by this server's engine, by plugin and outcome",
      labelNames: ["plugin", "outcome"],
      registers,
    });
    this.phaseChanges = new Counter({
      name: "petrel_execution_phase_changes_total",
      help: "Execution phase changes recorded by this server's engine, by the new phase",
      labelNames: ["phase"],
      registers,
    });
    const pool = (db.client as { pool?: TarnPool }).pool;
    new Gauge({
      name: "petrel_db_pool_connections",
      help: "Database pool connections, by state: used, free, pending (acquires waiting) and max",
      labelNames: ["state"],
      registers,
      collect() {
        const p = (db.client as { pool?: TarnPool }).pool ?? pool;
        if (p === undefined) return;
        this.set({ state: "used" }, p.numUsed());
        this.set({ state: "free" }, p.numFree());
        this.set({ state: "pending" }, p.numPendingAcquires());
        this.set({ state: "max" }, p.max);
      },
    });
    this.on(claimChannel, (e: ClaimEvent) => {
      this.claimSeconds.observe(e.seconds);
      this.claimedItems.inc(e.items);
    });
    this.on(attemptChannel, (e: AttemptEvent) => this.attempts.inc({ plugin: e.plugin, outcome: e.outcome }));
    this.on(phaseChannel, (e: PhaseEvent) => this.phaseChanges.inc({ phase: e.to }));
  }

  private on<E>(channel: typeof claimChannel, handle: (e: E) => void): void {
    const listener = (message: unknown) => handle(message as E);
    channel.subscribe(listener);
    this.unsubscribe.push(() => channel.unsubscribe(listener));
  }

  /** The Prometheus text exposition. */
  async scrape(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }

  close(): void {
    for (const u of this.unsubscribe.splice(0)) u();
  }
}
