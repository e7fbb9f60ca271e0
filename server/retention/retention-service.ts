// Retention: what Postgres and the blob store keep of finished executions. Every replica runs one loop; each pass
// first drops the database copies of blobs of executions finished for a while (copy-trimmer.ts; always on), then,
// with --retain-executions-days N, deletes executions last updated more than N days ago with their rows and blobs
// (execution-deleter.ts). Work goes in batches with a pause after each, several times as long as the batch took (a
// backlog keeps one connection busy a ninth of the time at most, whatever the load); replicas share it (an advisory
// lock for the trimmer's walk, SKIP LOCKED for deletions).
import type { Knex } from "knex";
import { Counter, type Registry } from "prom-client";
import type { Logger } from "../logger.js";
import type { BlobStore } from "../storage/blob-store.js";
import { trimCopies } from "./copy-trimmer.js";
import { deleteOldExecutions } from "./execution-deleter.js";

export interface RetentionOptions {
  /** Executions last updated more than this many days ago are deleted; 0 keeps them forever. */
  readonly retainDays: number;
  /** How long after an execution finished its database copies of blobs are dropped. */
  readonly trimAfterMs: number;
  /** Executions looked at per batch (and per transaction). */
  readonly batch: number;
  /** Between passes. */
  readonly intervalMs: number;
  /** The least pause after a full batch. */
  readonly pauseMs: number;
  /** The pause after a full batch lasts at least this many times as long as the batch took. */
  readonly pauseFactor: number;
}

export const DEFAULT_RETENTION: Omit<RetentionOptions, "retainDays"> = {
  trimAfterMs: 10 * 60_000,
  batch: 500,
  intervalMs: 60_000,
  pauseMs: 250,
  pauseFactor: 8,
};

const DAY_MS = 24 * 3_600_000;

export interface RetentionReport {
  /** Executions whose database copies of blobs were dropped, and how many copies. */
  readonly trimmed: number;
  readonly copies: number;
  /** Executions deleted, and blob-store directories deleted with them. */
  readonly deleted: number;
  readonly blobDirs: number;
}

export class RetentionService {
  private readonly o: RetentionOptions;
  private readonly counters: Record<"deleted" | "blobDirs" | "copies" | "failures", Counter>;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;
  private stopped = false;
  private wake: (() => void) | undefined;

  constructor(
    private readonly db: Knex,
    private readonly store: BlobStore,
    private readonly logger: Logger,
    registry: Registry,
    opts: Partial<RetentionOptions> & Pick<RetentionOptions, "retainDays">,
  ) {
    this.o = { ...DEFAULT_RETENTION, ...opts };
    const counter = (name: string, help: string) => new Counter({ name, help, registers: [registry] });
    this.counters = {
      deleted: counter("petrel_retention_executions_deleted_total", "Executions deleted by retention"),
      blobDirs: counter(
        "petrel_retention_blob_directories_deleted_total",
        "Blob-store directories (metadata, raw-output sandboxes) deleted with executions",
      ),
      copies: counter(
        "petrel_retention_copies_dropped_total",
        "Database copies of finished executions' blobs dropped (the blob store keeps them)",
      ),
      failures: counter("petrel_retention_failures_total", "Retention passes that failed (retried later)"),
    };
  }

  /** Passes every intervalMs, the first after half to one of them (replicas started together spread out). */
  start(): void {
    this.schedule((0.5 + Math.random() / 2) * this.o.intervalMs);
  }

  /**
   * One pass, as of `now`: trims, then deletes, batch after batch, until nothing more is due (or the service stops).
   */
  async pass(now: Date = new Date()): Promise<RetentionReport> {
    let trimmed = 0;
    let copies = 0;
    for (let more = true; more && !this.stopped; ) {
      const r = await this.paced(() =>
        trimCopies(this.db, this.store.root, { now, afterMs: this.o.trimAfterMs, batch: this.o.batch }),
      );
      trimmed += r.executions;
      copies += r.copies;
      more = r.more;
    }
    this.counters.copies.inc(copies);
    let deleted = 0;
    let blobDirs = 0;
    if (this.o.retainDays > 0) {
      const cutoff = new Date(now.getTime() - this.o.retainDays * DAY_MS);
      for (let after = "0", more = true; more && !this.stopped; ) {
        const r = await this.paced(() =>
          deleteOldExecutions(this.db, this.store, { cutoff, after, batch: this.o.batch }),
        );
        deleted += r.executions;
        blobDirs += r.blobDirs;
        this.counters.deleted.inc(r.executions);
        this.counters.blobDirs.inc(r.blobDirs);
        after = r.next;
        more = r.more;
      }
    }
    const report = { trimmed, copies, deleted, blobDirs };
    if (trimmed > 0 || deleted > 0) this.logger.info("retention pass", { ...report });
    return report;
  }

  /** Stops the loop; a pass under way ends after its current batch. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.wake?.();
    await this.running;
  }

  private schedule(ms: number): void {
    this.timer = setTimeout(() => {
      this.running = this.pass()
        .catch((err: unknown) => {
          this.counters.failures.inc();
          this.logger.warn("retention pass failed; the next one retries", { error: err });
        })
        .finally(() => {
          this.running = undefined;
          if (!this.stopped) this.schedule(this.o.intervalMs);
        });
    }, ms);
    this.timer.unref();
  }

  /** Runs one batch, then pauses (when it was full): pauseFactor times as long as it took, at least pauseMs. */
  private async paced<T extends { readonly more: boolean }>(batch: () => Promise<T>): Promise<T> {
    const started = performance.now();
    const r = await batch();
    if (r.more && !this.stopped) {
      const ms = Math.max(this.o.pauseMs, this.o.pauseFactor * (performance.now() - started));
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        setTimeout(resolve, ms).unref();
      });
      this.wake = undefined;
    }
    return r;
  }
}
