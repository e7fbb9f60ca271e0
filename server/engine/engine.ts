// The engine loop: claims work from Postgres (FOR UPDATE SKIP LOCKED, leased), woken by LISTEN/NOTIFY, with a
// polling fallback; work queued in this process (new executions, set signals) is written already leased to it and
// handed over in memory. Claimed evaluations run in groups (see evaluateExecutions). Any number of replicas can run
// it against one database.
import { randomUUID } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Knex } from "knex";
import type { CompilePool } from "../compiler/compile-pool.js";
import type { NotificationHub } from "../db/notifications.js";
import type { Logger } from "../logger.js";
import { WATCH_CHANNEL } from "../managers/workflow-event-recorder.js";
import { publishClaim } from "../metrics/engine-events.js";
import type { DataStore } from "../repositories/data-store.js";
import {
  type Claim,
  type CreatedWork,
  claimWork,
  releaseWork,
  WORK_CHANNEL,
  type WorkItemRow,
} from "../repositories/work-repo.js";
import type { LaunchChild } from "./child-executions.js";
import { DockerSweeper } from "./docker-sweeper.js";
import { DEFAULT_ENGINE_OPTIONS, EngineContext, type EngineOptions } from "./engine-context.js";
import { evaluateCreated, evaluateExecutions } from "./evaluation-groups.js";
import { evaluateIn } from "./evaluator.js";
import type { HandedAttempt } from "./handed-attempts.js";
import type { ContainerRuntime } from "./plugins/container-plugin.js";
import { DockerApi } from "./plugins/docker-api.js";
import { pluginSelector } from "./plugins/plugin-selector.js";
import { runAttempt, runTaskItem } from "./task-runner.js";
import { WorkerQueue } from "./worker-queue.js";

const MIN_SLEEP_MS = 2;
/**
 * Evaluation transactions in flight at once. Work that arrives meanwhile waits for one to finish and is then
 * claimed together, so under load each transaction covers more executions (and costs fewer statements each).
 */
const MAX_EVALUATION_GROUPS = 2;

export class Engine {
  readonly owner = `${os.hostname()}-${process.pid}-${randomUUID().slice(0, 8)}`;
  private readonly ctx: EngineContext;
  private unsubscribe: (() => void) | undefined;
  private running = false;
  private inflight = new Set<Promise<void>>();
  /** Work items being processed (a group of evaluations is one promise in `inflight`). */
  private busy = 0;
  private evaluating = 0;
  /** First evaluations of executions created in this process, already leased to this engine (see accept()). */
  private handed: WorkItemRow[] = [];
  /** Whether the database may hold work for this engine: a NOTIFY came, the poll interval passed, or a claim was full. */
  private dbDue = true;
  /** A claim left evaluations in the database because enough evaluation groups were in flight. */
  private evaluationsLeft = false;
  private nextDueAt: number | undefined;
  /** Ends the current sleep; a wake-up that comes while the loop is busy makes its next sleep return at once. */
  private wakeSleeper: (() => void) | undefined;
  private woken = false;
  private loopDone: Promise<void> | undefined;

  constructor(
    db: Knex,
    private readonly hub: NotificationHub,
    data: DataStore,
    private readonly logger: Logger,
    options: Partial<EngineOptions> & { taskRuntime?: ContainerRuntime; dockerHost?: string } = {},
  ) {
    const { taskRuntime = "process", dockerHost, ...rest } = options;
    const docker =
      taskRuntime === "docker" ? { api: new DockerApi(dockerHost), owner: this.owner } : undefined;
    this.ctx = new EngineContext(db, data, logger, pluginSelector(taskRuntime, docker), {
      ...DEFAULT_ENGINE_OPTIONS,
      ...rest,
    });
    this.ctx.evaluate = (trx, ids) => evaluateIn(this.ctx, trx, ids);
    this.ctx.reserveSlot = () => {
      if (this.free() <= 0) return false;
      this.busy++;
      return true;
    };
    this.ctx.releaseSlot = () => {
      this.busy--;
    };
    this.ctx.adopt = (attempt) => this.track(this.runHanded(attempt), 1, true);
    // Task containers a lost engine left are removed (docker-sweeper.ts).
    if (docker !== undefined)
      this.sweeper = new DockerSweeper(docker.api, db, this.owner, logger, this.ctx.options.leaseMs);
  }

  private readonly sweeper: DockerSweeper | undefined;

  /** The queue external workers poll (petrel.v1.WorkerService). */
  workerQueue(): WorkerQueue {
    return new WorkerQueue(this.ctx);
  }

  /** Launch-plan nodes start child executions through this. */
  setChildLauncher(launch: LaunchChild): void {
    this.ctx.launchChild = launch;
  }

  /** Dynamic tasks' workflows are compiled on this pool (the managers' compiler thread). */
  setCompiler(compiler: CompilePool): void {
    this.ctx.compiler = compiler;
  }

  /** Task log links point at this HTTP base URL. */
  setLogBaseUrl(url: string): void {
    this.ctx.logBaseUrl = url;
  }

  /**
   * Starts the loop; the hub must listen on WORK_CHANNEL (a NOTIFY there wakes the loop at once). Watchers in this
   * process hear of the engine's commits at once (in-process), other replicas' over NOTIFY.
   */
  start(): void {
    this.ctx.onCommitted = (ids, token) => {
      for (const id of ids) this.hub.publishLocal(WATCH_CHANNEL, id, token);
    };
    this.unsubscribe = this.hub.subscribe(WORK_CHANNEL, () => {
      this.dbDue = true;
      this.wake();
    });
    this.running = true;
    this.loopDone = this.loop();
    this.sweeper?.start();
  }

  async stop(graceMs = 10_000): Promise<void> {
    this.running = false;
    this.wake();
    await this.loopDone;
    const drained = Promise.all(this.inflight);
    const timeout = new Promise((r) => setTimeout(r, graceMs).unref());
    await Promise.race([drained, timeout]);
    // Handed-over evaluations not started: back to the queue for whichever engine runs next.
    for (const item of this.handed.splice(0))
      await releaseWork(this.ctx.db, item.id, this.owner).catch((err: unknown) =>
        this.logger.warn("releasing work failed; its lease will expire", { error: err }),
      );
    this.ctx.stopping = true;
    for (const c of this.ctx.running.values()) c.abort();
    await Promise.race([Promise.all(this.inflight), new Promise((r) => setTimeout(r, 2_000).unref())]);
    this.unsubscribe?.();
    await this.sweeper?.stop();
    await fs.promises
      .rm(path.join(this.ctx.options.workRoot, this.owner), { recursive: true, force: true })
      .catch(() => undefined);
  }

  /** The lease CreateExecution gives the work items it hands to this engine. */
  get leaseMs(): number {
    return this.ctx.options.leaseMs;
  }

  /**
   * Takes the first evaluations of executions created in this process, written already leased to this engine (no
   * NOTIFY, no claim). Should this process stop before evaluating them, they are released; should it die, their
   * lease expires and any engine claims them.
   */
  accept(items: readonly WorkItemRow[]): void {
    if (!this.running) {
      for (const item of items) void releaseWork(this.ctx.db, item.id, this.owner).catch(() => undefined);
      return;
    }
    this.handed.push(...items);
    this.wake();
  }

  /** Creates executions and runs their first evaluations in one transaction (see evaluateCreated). */
  async evaluateWith<T>(
    write: (trx: Knex) => Promise<CreatedWork<T>>,
  ): Promise<{ readonly value: T } | undefined> {
    if (!this.running) return undefined;
    try {
      return { value: await evaluateCreated(this.ctx, this.owner, write) };
    } catch (err) {
      this.logger.warn("evaluating new executions with their creation failed; evaluated apart", {
        error: err,
      });
      throw err;
    }
  }

  private wake(): void {
    this.woken = true;
    this.wakeSleeper?.();
  }

  private async loop(): Promise<void> {
    while (this.running) {
      const handed = this.evaluating < MAX_EVALUATION_GROUPS ? this.handed.splice(0, this.free()) : [];
      if (handed.length > 0) this.track(this.evaluate(handed), handed.length);
      const free = this.free();
      const polled = this.dbDue && free > 0;
      if (polled) {
        this.dbDue = false;
        const evaluations = this.evaluating < MAX_EVALUATION_GROUPS;
        if (!evaluations) this.evaluationsLeft = true;
        const claimStarted = performance.now();
        const claim = await claimWork(
          this.ctx.db,
          this.owner,
          free,
          this.ctx.options.leaseMs,
          evaluations,
        ).catch((err: unknown): Claim => {
          this.logger.warn("claiming work failed", { error: err });
          return { items: [], nextReadyMs: undefined };
        });
        publishClaim({ seconds: (performance.now() - claimStarted) / 1000, items: claim.items.length });
        const evaluate = claim.items.filter((i) => i.kind === "evaluate");
        if (evaluate.length > 0) this.track(this.evaluate(evaluate), evaluate.length);
        for (const item of claim.items) if (item.kind !== "evaluate") this.track(this.runTask(item), 1);
        this.nextDueAt = claim.nextReadyMs === undefined ? undefined : Date.now() + claim.nextReadyMs;
        if (claim.items.length === free) {
          this.dbDue = true;
          continue;
        }
      }
      if (this.handed.length > 0 && this.evaluating < MAX_EVALUATION_GROUPS && this.free() > 0) continue;
      // Sleep until the next item is due, a NOTIFY or hand-off comes, or the poll interval passes; never spinning.
      const untilDue = this.nextDueAt === undefined ? this.ctx.options.pollMs : this.nextDueAt - Date.now();
      const timedOut = await this.sleep(Math.max(MIN_SLEEP_MS, Math.min(this.ctx.options.pollMs, untilDue)));
      if (timedOut) this.dbDue = true;
    }
  }

  private free(): number {
    return Math.max(0, this.ctx.options.concurrency - this.busy);
  }

  /** Resolves true when the time passed, false when woken. */
  private sleep(ms: number): Promise<boolean> {
    if (this.woken) {
      this.woken = false;
      return Promise.resolve(false);
    }
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const done = (timedOut: boolean) => {
        clearTimeout(timer);
        this.wakeSleeper = undefined;
        this.woken = false;
        resolve(timedOut);
      };
      timer = setTimeout(() => done(true), ms);
      this.wakeSleeper = () => done(false);
    });
  }

  /** `reserved`: the items' slots were taken already (reserveSlot). */
  private track(p: Promise<void>, items: number, reserved = false): void {
    this.inflight.add(p);
    if (!reserved) this.busy += items;
    void p.finally(() => {
      const wasFull = this.busy >= this.ctx.options.concurrency;
      this.inflight.delete(p);
      this.busy -= items;
      // A freed slot matters only when the loop stopped claiming for want of one: new work comes with a NOTIFY.
      if (wasFull) this.wake();
    });
  }

  private async evaluate(items: readonly WorkItemRow[]): Promise<void> {
    this.evaluating++;
    try {
      await evaluateExecutions(this.ctx, items, this.owner);
    } finally {
      // Evaluations that waited for a free group are taken now.
      if (this.evaluating-- === MAX_EVALUATION_GROUPS) {
        if (this.evaluationsLeft) this.dbDue = true;
        this.evaluationsLeft = false;
        this.wake();
      }
    }
  }

  private runTask(item: WorkItemRow): Promise<void> {
    return this.attempt(item, () => runTaskItem(this.ctx, item, this.owner));
  }

  /** An attempt handed over by the transaction that recorded it (handed-attempts.ts). */
  private runHanded(h: HandedAttempt): Promise<void> {
    return this.attempt(h.item, () => runAttempt(this.ctx, h));
  }

  private async attempt(item: WorkItemRow, run: () => Promise<void>): Promise<void> {
    try {
      await run();
    } catch (err) {
      this.logger.error("work item failed; it will be retried when its lease expires", {
        executionId: item.execution_id,
        item: item.id,
        kind: item.kind,
        error: err,
      });
    }
  }
}
