// Writes small blobs (the engine's, an execution's inputs) to the blob store after the transactions that wrote their
// database copies commit, so neither the engine nor CreateExecution waits for the store. Blobs this process committed
// are written at once (handed over in memory), then made durable together by one flush; a sweep writes whatever the
// blob outbox still holds after a while — another server's, or what a crash left — from the database copies. An
// entry leaves the outbox only once its blob is durable in the store, so every URI handed out is readable there soon
// after its commit, crash or not. Entries written leave the outbox together, about once a second (a statement and a
// commit of their own per batch of blobs would cost each execution one more commit).
import type { Knex } from "knex";
import type { Logger } from "../logger.js";
import { clearOutbox, lockPending } from "../repositories/blob-outbox-repo.js";
import type { BlobWrite } from "../repositories/data-store.js";
import type { BlobStore } from "./blob-store.js";

export interface MaterializerOptions {
  /** How often the outbox is swept. */
  readonly sweepMs: number;
  /** How old an outbox entry is before a sweep takes it (younger ones are being written by their own server). */
  readonly staleMs: number;
  /** Store writes in flight at once (stores without putSmall). */
  readonly concurrency: number;
  /** How long handed-over blobs wait for more to be written with them. */
  readonly batchMs: number;
  /** How long the outbox entries of written blobs wait for more to be removed with them. */
  readonly clearMs: number;
}

const DEFAULTS: MaterializerOptions = {
  sweepMs: 2_000,
  staleMs: 5_000,
  concurrency: 4,
  batchMs: 100,
  clearMs: 1_000,
};
const SWEEP_BATCH = 256;

export class BlobMaterializer {
  private readonly options: MaterializerOptions;
  private queue = new Map<string, Uint8Array>();
  private draining: Promise<void> | undefined;
  private batchTimer: NodeJS.Timeout | undefined;
  private timer: NodeJS.Timeout | undefined;
  private sweeping: Promise<void> | undefined;
  private stopped = false;
  /** Written (durably) blobs whose outbox entries are still to be removed. */
  private written: string[] = [];
  private clearTimer: NodeJS.Timeout | undefined;
  private clearing: Promise<void> = Promise.resolve();

  constructor(
    private readonly db: Knex,
    private readonly store: BlobStore,
    private readonly logger: Logger,
    options: Partial<MaterializerOptions> = {},
  ) {
    this.options = { ...DEFAULTS, ...options };
  }

  start(): void {
    this.timer = setInterval(() => this.sweep(), this.options.sweepMs);
    this.timer.unref();
  }

  /**
   * Blobs whose database copies (and outbox entries) just committed in this process. They are written a moment later
   * (batchMs), together with whatever comes meanwhile: one flush covers them all.
   */
  push(blobs: readonly BlobWrite[]): void {
    if (this.stopped) return; // the next server's sweep writes them
    for (const b of blobs) this.queue.set(b.uri, b.data);
    if (this.draining !== undefined || this.batchTimer !== undefined || this.queue.size === 0) return;
    this.batchTimer = setTimeout(() => {
      this.batchTimer = undefined;
      this.draining = this.drain().finally(() => {
        this.draining = undefined;
        this.push([]);
      });
    }, this.options.batchMs);
  }

  /** Writes what was handed over; the outbox keeps whatever fails (a sweep retries it). */
  private async drain(): Promise<void> {
    while (this.queue.size > 0 && !this.stopped) {
      const batch = [...this.queue].slice(0, SWEEP_BATCH);
      for (const [uri] of batch) this.queue.delete(uri);
      this.written.push(...(await this.write(batch)));
      if (this.written.length >= SWEEP_BATCH) void this.clear();
      else this.clearTimer ??= setTimeout(() => void this.clear(), this.options.clearMs).unref();
    }
  }

  /** Removes the outbox entries of the blobs written so far (what fails is left to a sweep). */
  private clear(): Promise<void> {
    clearTimeout(this.clearTimer);
    this.clearTimer = undefined;
    const uris = this.written.splice(0);
    this.clearing = this.clearing.then(() =>
      clearOutbox(this.db, uris).catch((err: unknown) =>
        this.logger.warn("clearing the blob outbox failed; a sweep will", { error: err }),
      ),
    );
    return this.clearing;
  }

  /**
   * Writes blobs to the store — as one batch where the store has putSmall, else `concurrency` at a time — then makes
   * them durable together (one flush, not a sync per file); returns the URIs written.
   */
  private async write(blobs: readonly (readonly [string, Uint8Array])[]): Promise<string[]> {
    const written: string[] = [];
    const failed = (uri: string, err: unknown) =>
      this.logger.warn("writing a blob to the store failed; it stays in the outbox", { uri, error: err });
    if (this.store.putSmall !== undefined) {
      const errors = await this.store
        .putSmall(blobs.map(([uri, data]) => ({ uri, data })))
        .catch((err: unknown) => blobs.map(() => err));
      blobs.forEach(([uri], i) => {
        if (errors[i] === undefined) written.push(uri);
        else failed(uri, errors[i]);
      });
    } else {
      for (let i = 0; i < blobs.length; i += this.options.concurrency) {
        await Promise.all(
          blobs.slice(i, i + this.options.concurrency).map(async ([uri, data]) => {
            try {
              await this.store.put(uri, data, { durable: false });
              written.push(uri);
            } catch (err) {
              failed(uri, err);
            }
          }),
        );
      }
    }
    if (written.length > 0) await this.store.flush();
    return written;
  }

  /** Writes, from their database copies, the blobs the outbox has held for a while. */
  private sweep(): void {
    if (this.sweeping !== undefined || this.stopped) return;
    this.sweeping = this.db
      .transaction(async (trx) => {
        const pending = await lockPending(trx, SWEEP_BATCH, this.options.staleMs);
        const gone = pending.flatMap((p) => (p.data === null ? [p.uri] : []));
        const written = await this.write(
          pending.flatMap((p) => (p.data === null ? [] : [[p.uri, p.data] as const])),
        );
        await clearOutbox(trx, [...gone, ...written]);
      })
      .catch((err: unknown) => this.logger.warn("sweeping the blob outbox failed", { error: err }))
      .finally(() => {
        this.sweeping = undefined;
      });
  }

  /** Finishes the writes under way (within `graceMs`); what was not written yet is left to the outbox. */
  async stop(graceMs = 5_000): Promise<void> {
    clearInterval(this.timer);
    clearTimeout(this.batchTimer);
    this.stopped = true;
    const grace = new Promise((r) => setTimeout(r, graceMs).unref());
    const drained = Promise.all([this.draining, this.sweeping]).then(() => this.clear());
    await Promise.race([drained, grace]);
    this.queue.clear();
  }
}
