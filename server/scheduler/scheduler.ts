// The native scheduler: launches active launch plans on their cron or fixed-rate schedules, as Flyte's
// flytescheduler does — one CreateExecution per fire time (mode SCHEDULED, deterministic name, kickoff input for
// cron schedules), catching up on fires missed while no server ran. State lives in Postgres; replicas share it.
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Code } from "@connectrpc/connect";
import type { Knex } from "knex";
import { type Cron, CronError, fixedRate, nextFire, parseCron } from "../../common/cron.js";
import {
  type ExecutionCreateRequest,
  ExecutionCreateRequestSchema,
  ExecutionMetadata_ExecutionMode,
} from "../../gen/flyteidl/admin/execution_pb.js";
import { ResourceType } from "../../gen/flyteidl/core/identifier_pb.js";
import type { NotificationHub } from "../db/notifications.js";
import { AppError } from "../errors.js";
import type { Logger } from "../logger.js";
import {
  advance,
  claimDue,
  type DueFireRow,
  dropInactive,
  insertState,
  NEVER,
  newlyActive,
  nextDue,
  retryLater,
  SCHEDULE_CHANNEL,
  type ScheduledPlanRow,
} from "../repositories/schedule-repo.js";
import { decodeSpec } from "../transformers/launch-plan.js";

const BATCH = 50;
const MAX_ATTEMPTS = 30;

export type LaunchFn = (req: ExecutionCreateRequest) => Promise<unknown>;

export interface SchedulerOptions {
  /** Longest sleep between checks (new activations also wake the scheduler at once). */
  readonly maxSleepMs: number;
}

/** FNV-1 64-bit of the text. */
function fnv64(text: string): bigint {
  let h = 0xcbf29ce484222325n;
  for (const b of Buffer.from(text, "utf8")) h = BigInt.asUintN(64, (h * 0x100000001b3n) ^ BigInt(b));
  return h;
}

/** Flyte's deterministic scheduled execution name: a duplicate fire gets ALREADY_EXISTS. */
export function scheduledExecutionName(lp: ScheduledPlanRow, at: Date): string {
  const bytes = Buffer.alloc(16);
  bytes.writeBigUInt64LE(
    fnv64(`${lp.project}:${lp.domain}:${lp.name}:${lp.version}:${Math.floor(at.getTime() / 1000)}`),
  );
  return `f${bytes.toString("hex").slice(0, 19)}`;
}

/**
 * What the scheduler runs for a launch plan. Throws when the stored schedule cannot run (a row stored before
 * validation existed, or edited by hand): the deprecated cron_expression, a bad rate, an unparseable cron.
 */
function scheduleOf(lp: ScheduledPlanRow): { cron: Cron; kickoff: string } {
  const s = decodeSpec(lp).entityMetadata?.schedule;
  const e = s?.ScheduleExpression;
  if (e?.case === "cronSchedule")
    return { cron: parseCron(e.value.schedule), kickoff: s?.kickoffTimeInputArg ?? "" };
  // Fixed-rate schedules do not get the kickoff input (as in Flyte's native scheduler).
  if (e?.case === "rate") return { cron: fixedRate(e.value.value, e.value.unit), kickoff: "" };
  throw new CronError(
    e?.case === "cronExpression"
      ? "the deprecated cron_expression is not supported by the native scheduler; use cron_schedule"
      : "the launch plan has no schedule",
  );
}

export function scheduledRequest(lp: ScheduledPlanRow, at: Date, kickoff: string): ExecutionCreateRequest {
  const when = timestampFromDate(at);
  return create(ExecutionCreateRequestSchema, {
    project: lp.project,
    domain: lp.domain,
    name: scheduledExecutionName(lp, at),
    spec: {
      launchPlan: {
        resourceType: ResourceType.LAUNCH_PLAN,
        project: lp.project,
        domain: lp.domain,
        name: lp.name,
        version: lp.version,
      },
      metadata: {
        mode: ExecutionMetadata_ExecutionMode.SCHEDULED,
        scheduledAt: when,
        principal: "scheduler",
      },
    },
    inputs: {
      literals:
        kickoff === ""
          ? {}
          : {
              [kickoff]: {
                value: {
                  case: "scalar",
                  value: {
                    value: { case: "primitive", value: { value: { case: "datetime", value: when } } },
                  },
                },
              },
            },
    },
  });
}

export class Scheduler {
  private running = false;
  private wake: (() => void) | undefined;
  /** A change was announced since the current step began. */
  private woken = false;
  private loopDone: Promise<void> | undefined;
  private unsubscribe: (() => void) | undefined;

  constructor(
    private readonly db: Knex,
    private readonly launch: LaunchFn,
    private readonly hub: NotificationHub,
    private readonly logger: Logger,
    private readonly options: SchedulerOptions = { maxSleepMs: 30_000 },
  ) {}

  start(): void {
    this.running = true;
    this.unsubscribe = this.hub.subscribe(SCHEDULE_CHANNEL, () => {
      // Noted even while a step runs (no sleep to end yet): the loop then steps again instead of sleeping.
      this.woken = true;
      this.wake?.();
    });
    this.loopDone = this.loop();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.unsubscribe?.();
    this.wake?.();
    await this.loopDone;
  }

  private async loop(): Promise<void> {
    while (this.running) {
      let sleepMs = this.options.maxSleepMs;
      this.woken = false;
      try {
        await this.step();
        const due = await nextDue(this.db);
        if (due !== undefined) sleepMs = Math.max(0, Math.min(sleepMs, due.getTime() - Date.now()));
      } catch (err) {
        this.logger.warn("scheduler step failed; retrying", { error: err });
      }
      if (!this.running) break;
      if (this.woken) continue; // a change was announced while the step ran: it may not have seen it
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, sleepMs);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  /** Picks up activations and deactivations, then launches every due fire. */
  async step(): Promise<void> {
    await dropInactive(this.db);
    for (const lp of await newlyActive(this.db)) await this.begin(lp);
    for (;;) {
      const claimed = await this.db.transaction(async (trx) => {
        const due = await claimDue(trx, BATCH);
        for (const row of due) await this.fire(trx, row);
        return due.length;
      });
      if (claimed < BATCH) return;
    }
  }

  /** Starts a newly activated schedule; one whose first fire cannot be computed is disabled instead. */
  private async begin(lp: ScheduledPlanRow): Promise<void> {
    let next: Date | undefined;
    try {
      // Schedules start when the launch plan was activated; nothing fires for the time before.
      next = nextFire(scheduleOf(lp).cron, lp.updated_at, lp.updated_at);
    } catch (err) {
      this.disable(lp, err);
      next = undefined;
    }
    try {
      await insertState(this.db, lp.id, lp.updated_at, next ?? NEVER);
    } catch (err) {
      this.logger.warn("could not record the schedule state; will retry", {
        launchPlan: lp.name,
        error: err,
      });
    }
  }

  /** A schedule that cannot run is parked (it never fires) and reported; every other schedule keeps firing. */
  private disable(lp: ScheduledPlanRow, err: unknown): void {
    const { project, domain, name, version } = lp;
    this.logger.error("schedule disabled: it cannot be read or its next fire time cannot be computed", {
      launchPlan: `${project}:${domain}:${name}:${version}`,
      error: err instanceof CronError ? err.message : err,
    });
  }

  private async fire(trx: Knex, row: DueFireRow): Promise<void> {
    const at = row.next_fire_at;
    let s: { cron: Cron; kickoff: string };
    let next: Date | undefined;
    try {
      // Both before launching: a schedule that cannot advance must not fire (again and again).
      s = scheduleOf(row);
      next = nextFire(s.cron, at, row.anchor_at);
    } catch (err) {
      this.disable(row, err);
      return advance(trx, row.id, undefined);
    }
    try {
      await this.launch(scheduledRequest(row, at, s.kickoff));
      this.logger.info("scheduled execution launched", { launchPlan: row.name, at: at.toISOString() });
    } catch (err) {
      const duplicate = err instanceof AppError && err.code === Code.AlreadyExists;
      const inactiveProject = err instanceof AppError && err.message.includes("is not active");
      if (!duplicate && !inactiveProject && row.attempts + 1 < MAX_ATTEMPTS) {
        const backoff = Math.min(3_000 * 2 ** row.attempts, 300_000);
        this.logger.warn("scheduled launch failed; retrying", { launchPlan: row.name, error: err });
        return retryLater(trx, row.id, row.attempts + 1, new Date(Date.now() + backoff));
      }
    }
    await advance(trx, row.id, next);
  }
}
