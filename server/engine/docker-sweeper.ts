// Containers a lost engine left running. Each task container is labelled with the engine that runs it
// (docker-runtime.ts); an engine holds a live lease on every task it runs (its heartbeat renews them). At start and
// then every lease period, the sweeper removes the containers of engines that hold no live lease: that engine died
// (or was stopped) and its attempts are, or will be, retried as lost ones (task-runner.ts), so the old container must
// not run on beside the new attempt. Containers of live engines, this one's included, are left alone.
import type { Knex } from "knex";
import type { Logger } from "../logger.js";
import type { DockerApi } from "./plugins/docker-api.js";
import { LABEL } from "./plugins/docker-runtime.js";

/** Whether an engine holds a live lease on any work item. */
async function isAlive(db: Knex, owner: string): Promise<boolean> {
  const row = await db("work_items")
    .where("leased_by", owner)
    .andWhere("lease_until", ">", db.fn.now())
    .first("id");
  return row !== undefined;
}

/** Removes the task containers of engines other than `owner` that hold no live lease; returns their names. */
export async function sweepContainers(api: DockerApi, db: Knex, owner: string): Promise<string[]> {
  const containers = await api.listContainers([LABEL.owner]);
  const verdicts = new Map<string, boolean>();
  const removed: string[] = [];
  for (const c of containers) {
    const other = c.Labels[LABEL.owner];
    if (other === undefined || other === owner) continue;
    let alive = verdicts.get(other);
    if (alive === undefined) {
      alive = await isAlive(db, other);
      verdicts.set(other, alive);
    }
    if (alive) continue;
    await api.removeContainer(c.Id);
    removed.push(c.Names[0]?.replace(/^\//, "") ?? c.Id);
  }
  return removed;
}

export class DockerSweeper {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(
    private readonly api: DockerApi,
    private readonly db: Knex,
    private readonly owner: string,
    private readonly logger: Logger,
    private readonly everyMs: number,
  ) {}

  start(): void {
    this.sweep();
    this.timer = setInterval(() => this.sweep(), this.everyMs);
    this.timer.unref();
  }

  /** Stops sweeping; the engine's Docker client (shared with its tasks, all ended by now) is closed with it. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
    this.api.close();
  }

  private sweep(): void {
    if (this.running !== undefined) return;
    this.running = sweepContainers(this.api, this.db, this.owner)
      .then((removed) => {
        if (removed.length > 0)
          this.logger.info("removed task containers a lost engine left", { containers: removed.join(",") });
      })
      .catch((err: unknown) =>
        this.logger.warn("looking for task containers a lost engine left failed", { error: err }),
      )
      .finally(() => {
        this.running = undefined;
      });
  }
}
