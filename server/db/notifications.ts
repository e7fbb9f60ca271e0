// One LISTEN connection per server process, fanning Postgres notifications out to in-process subscribers.
import pg from "pg";
import type { Logger } from "../logger.js";

type Listener = (payload: string) => void;

export class NotificationHub {
  private client: pg.Client | undefined;
  private readonly listeners = new Map<string, Set<Listener>>();

  constructor(
    private readonly url: string,
    private readonly channels: readonly string[],
    private readonly logger: Logger,
  ) {}

  async start(): Promise<void> {
    this.client = new pg.Client({ connectionString: this.url, application_name: "petrel-notify" });
    this.client.on("notification", (n) => {
      for (const l of this.listeners.get(n.channel) ?? []) l(n.payload ?? "");
    });
    this.client.on("error", (err) => this.logger.warn("notification connection error", { error: err }));
    await this.client.connect();
    for (const c of this.channels) await this.client.query(`LISTEN ${c}`);
  }

  subscribe(channel: string, listener: Listener): () => void {
    const set = this.listeners.get(channel) ?? new Set();
    set.add(listener);
    this.listeners.set(channel, set);
    return () => set.delete(listener);
  }

  async stop(): Promise<void> {
    await this.client?.end().catch(() => undefined);
  }
}
