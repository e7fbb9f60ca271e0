// Whether the database answers, for the health checks: `SELECT 1` on a connection of its own every few seconds
// (more often while the database is down, so its return is noticed soon). A holder that knows better (the embedded
// Postgres supervisor, when its postmaster died) can report it down at once, until it lets go.
import pg from "pg";
import type { Logger } from "../logger.js";

export interface DatabaseWatchOptions {
  /** Between probes while the database answers. */
  readonly intervalMs: number;
  /** Between probes while it does not. */
  readonly downIntervalMs: number;
  /** A probe (connecting included) that takes longer fails. */
  readonly timeoutMs: number;
}

export const DEFAULT_WATCH_OPTIONS: DatabaseWatchOptions = {
  intervalMs: 2_000,
  downIntervalMs: 500,
  timeoutMs: 3_000,
};

/** Called with why the database is unavailable, or undefined when it is available again. */
export type AvailabilityListener = (unavailable: string | undefined) => void;

/** A reason safe to show anyone: an error code, never a message (those name hosts and socket paths). */
function reasonOf(err: unknown): string {
  const code = typeof err === "object" && err !== null && "code" in err ? String(err.code) : "";
  return /^[A-Z0-9_]{2,20}$/.test(code) ? `database unreachable (${code})` : "database unreachable";
}

export class DatabaseWatch {
  private client: pg.Client | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private probing: Promise<void> | undefined;
  /** What the probe found (undefined: the database answered). */
  private probed: string | undefined;
  private held: string | undefined;
  private reported: string | undefined;

  constructor(
    private readonly url: string,
    private readonly logger: Logger,
    private readonly onChange: AvailabilityListener,
    private readonly options: DatabaseWatchOptions = DEFAULT_WATCH_OPTIONS,
  ) {}

  /** Why the database is unavailable, or undefined while it answers. */
  get unavailable(): string | undefined {
    return this.reported;
  }

  /** Starts probing (the database is taken to be available until a probe says otherwise). */
  start(): void {
    this.running = true;
    this.schedule(this.options.intervalMs);
  }

  async stop(): Promise<void> {
    this.running = false;
    clearTimeout(this.timer);
    await this.probing;
    this.dropClient();
  }

  /** Reports the database unavailable for `reason` until release(), whatever the probe finds. */
  hold(reason: string): void {
    this.held = reason;
    this.update(undefined);
  }

  /** Ends hold() and probes at once. */
  release(): void {
    this.held = undefined;
    this.probeSoon();
  }

  private schedule(ms: number): void {
    clearTimeout(this.timer);
    if (!this.running) return;
    this.timer = setTimeout(() => {
      this.probing = this.probe().finally(() => {
        this.probing = undefined;
      });
    }, ms);
    this.timer.unref();
  }

  private probeSoon(): void {
    if (this.probing === undefined) this.schedule(0);
  }

  private async probe(): Promise<void> {
    let failure: unknown;
    try {
      this.client ??= await this.connect();
      await this.client.query("SELECT 1");
      this.probed = undefined;
    } catch (err) {
      failure = err;
      this.probed = reasonOf(err);
      this.dropClient();
    }
    this.update(failure);
    this.schedule(this.reported === undefined ? this.options.intervalMs : this.options.downIntervalMs);
  }

  private async connect(): Promise<pg.Client> {
    const client = new pg.Client({
      connectionString: this.url,
      application_name: "petrel-health",
      connectionTimeoutMillis: this.options.timeoutMs,
      query_timeout: this.options.timeoutMs,
    });
    // A lost connection is noticed between probes too: the next probe comes at once.
    const lost = () => {
      if (this.client !== client) return;
      this.dropClient();
      if (this.running) this.probeSoon();
    };
    client.on("error", lost);
    client.on("end", lost);
    try {
      await client.connect();
    } catch (err) {
      await client.end().catch(() => undefined);
      throw err;
    }
    return client;
  }

  private dropClient(): void {
    const client = this.client;
    this.client = undefined;
    void client?.end().catch(() => undefined);
  }

  private update(failure: unknown): void {
    const now = this.held ?? this.probed;
    if (now === this.reported) return;
    const before = this.reported;
    this.reported = now;
    if (now === undefined) this.logger.info("the database is available again; serving", { was: before });
    else if (failure !== undefined && this.held === undefined)
      this.logger.warn(`${now}; reporting NOT_SERVING`, { error: failure });
    else this.logger.warn(`${now}; reporting NOT_SERVING`);
    this.onChange(now);
  }
}
