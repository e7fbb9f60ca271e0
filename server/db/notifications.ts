// One LISTEN connection per server process, fanning Postgres notifications out to in-process subscribers: those of
// a whole channel, and those of one payload on a channel (found by a map lookup, so many of them cost nothing).
// A lost connection is re-opened (with backoff); since notifications sent meanwhile are gone, every subscriber is
// then called once (channel subscribers with an empty payload) to look again.
// A payload may carry a token (`<payload>#<token>`): a transaction of this process that committed can publish its
// notifications locally at once (publishLocal) instead of waiting for Postgres to deliver them; the same
// notification arriving over LISTEN is then dropped, and whichever comes first is delivered (subscribers see the
// payload without its token).
import pg from "pg";
import type { Logger } from "../logger.js";

type Listener = (payload: string) => void;

const DELIVERED_TTL_MS = 60_000;

export class NotificationHub {
  private client: pg.Client | undefined;
  private stopped = false;
  private readonly listeners = new Map<string, Set<Listener>>();
  /** channel → payload → listeners. */
  private readonly keyed = new Map<string, Map<string, Set<Listener>>>();
  /** Tokened notifications delivered one way and expected the other way too, with when they were delivered. */
  private readonly delivered = new Map<string, number>();

  constructor(
    private readonly url: string,
    private readonly channels: readonly string[],
    private readonly logger: Logger,
    private readonly maxRetryMs = 5_000,
  ) {}

  async start(): Promise<void> {
    this.stopped = false;
    await this.connect();
  }

  private async connect(): Promise<void> {
    const client = new pg.Client({ connectionString: this.url, application_name: "petrel-notify" });
    client.on("notification", (n) => this.receive(n.channel, n.payload ?? ""));
    client.on("error", (err) => {
      this.logger.warn("notification connection error", { error: err });
      this.lost(client);
    });
    client.on("end", () => this.lost(client));
    try {
      await client.connect();
      for (const c of this.channels) await client.query(`LISTEN ${c}`);
    } catch (err) {
      await client.end().catch(() => undefined);
      throw err;
    }
    this.client = client;
  }

  private receive(channel: string, raw: string): void {
    const hash = raw.lastIndexOf("#");
    if (hash < 0) this.deliver(channel, raw);
    else if (this.firstOf(`${channel}/${raw}`)) this.deliver(channel, raw.slice(0, hash));
  }

  /**
   * Delivers a notification that a committed transaction of this process sent as `<payload>#<token>`, before
   * Postgres does (its copy over LISTEN is then dropped).
   */
  publishLocal(channel: string, payload: string, token: string): void {
    if (this.firstOf(`${channel}/${payload}#${token}`)) this.deliver(channel, payload);
  }

  /** True the first time a tokened notification is seen (the second time, it is forgotten). */
  private firstOf(key: string): boolean {
    const now = Date.now();
    // Copies that never come (a lost connection) are forgotten after a while; insertion order is time order.
    for (const [k, at] of this.delivered) {
      if (now - at < DELIVERED_TTL_MS) break;
      this.delivered.delete(k);
    }
    if (this.delivered.delete(key)) return false;
    this.delivered.set(key, now);
    return true;
  }

  private deliver(channel: string, payload: string): void {
    for (const l of this.listeners.get(channel) ?? []) l(payload);
    for (const l of this.keyed.get(channel)?.get(payload) ?? []) l(payload);
  }

  private lost(client: pg.Client): void {
    if (this.client !== client || this.stopped) return;
    this.client = undefined;
    void client.end().catch(() => undefined);
    this.reconnect(100);
  }

  private reconnect(delayMs: number): void {
    setTimeout(async () => {
      if (this.stopped) return;
      try {
        await this.connect();
      } catch (err) {
        this.logger.warn("notification connection still down; retrying", { error: err });
        this.reconnect(Math.min(delayMs * 2, this.maxRetryMs));
        return;
      }
      if (this.stopped) {
        await this.client?.end().catch(() => undefined);
        return;
      }
      this.logger.info("notification connection restored");
      for (const set of this.listeners.values()) for (const l of [...set]) l("");
      for (const byPayload of this.keyed.values())
        for (const [payload, set] of byPayload) for (const l of [...set]) l(payload);
    }, delayMs).unref();
  }

  /** Calls `listener` with every notification on `channel`, until the returned function is called. */
  subscribe(channel: string, listener: Listener): () => void {
    const set = this.listeners.get(channel) ?? new Set();
    set.add(listener);
    this.listeners.set(channel, set);
    return () => set.delete(listener);
  }

  /** Calls `listener` with the notifications on `channel` whose payload is `payload`, until unsubscribed. */
  subscribePayload(channel: string, payload: string, listener: Listener): () => void {
    const byPayload = this.keyed.get(channel) ?? new Map<string, Set<Listener>>();
    this.keyed.set(channel, byPayload);
    const set = byPayload.get(payload) ?? new Set();
    byPayload.set(payload, set);
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0 && byPayload.get(payload) === set) byPayload.delete(payload);
    };
  }

  async stop(): Promise<void> {
    this.stopped = true;
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }
}
