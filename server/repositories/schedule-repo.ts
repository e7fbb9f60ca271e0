// SQL for the scheduler: which active launch plans have schedules, their next fire times, claiming due fires
// under a row lock (SKIP LOCKED, so replicas share the work), and advancing them.
import type { Knex } from "knex";
import { LP_STATE } from "./launch-plan-repo.js";

export const SCHEDULE_CHANNEL = "petrel_schedules";
/** The fire time of a schedule that never fires again (or was disabled because it cannot run). */
export const NEVER = new Date("9999-12-31T00:00:00Z");

export interface ScheduledPlanRow {
  id: string;
  project: string;
  domain: string;
  name: string;
  version: string;
  spec: Buffer;
  updated_at: Date;
}

export interface DueFireRow extends ScheduledPlanRow {
  anchor_at: Date;
  next_fire_at: Date;
  attempts: number;
}

const PLAN_COLUMNS = ["l.id", "l.project", "l.domain", "l.name", "l.version", "l.spec", "l.updated_at"];

/** Active scheduled launch plans the scheduler has no state for yet (just activated). */
export const newlyActive = (db: Knex): Promise<ScheduledPlanRow[]> =>
  db("launch_plans as l")
    .leftJoin("schedule_states as s", "s.launch_plan_id", "l.id")
    .where("l.state", LP_STATE.ACTIVE)
    .whereNot("l.schedule_type", "NONE")
    .whereNull("s.launch_plan_id")
    .select(PLAN_COLUMNS);

export async function insertState(db: Knex, lpId: string, anchor: Date, next: Date): Promise<void> {
  await db("schedule_states")
    .insert({ launch_plan_id: lpId, anchor_at: anchor, next_fire_at: next })
    .onConflict("launch_plan_id")
    .ignore();
}

/** Drops the state of launch plans that are no longer active (deactivated, or replaced by another version). */
export async function dropInactive(db: Knex): Promise<void> {
  await db.raw(
    `DELETE FROM schedule_states s USING launch_plans l WHERE l.id = s.launch_plan_id AND l.state <> ?`,
    [LP_STATE.ACTIVE],
  );
}

/** Locks up to `limit` due fires, oldest first, skipping those another replica holds. */
export const claimDue = (trx: Knex, limit: number): Promise<DueFireRow[]> =>
  trx("schedule_states as s")
    .join("launch_plans as l", "l.id", "s.launch_plan_id")
    .where("l.state", LP_STATE.ACTIVE)
    .where("s.next_fire_at", "<=", trx.fn.now())
    .where((q) => q.whereNull("s.retry_after").orWhere("s.retry_after", "<=", trx.fn.now()))
    .orderBy("s.next_fire_at")
    .limit(limit)
    .forUpdate("s")
    .skipLocked()
    .select([...PLAN_COLUMNS, "s.anchor_at", "s.next_fire_at", "s.attempts"]);

/** Moves to the next fire time (or far away when the schedule never fires again). */
export async function advance(trx: Knex, lpId: string, next: Date | undefined): Promise<void> {
  await trx("schedule_states")
    .where("launch_plan_id", lpId)
    .update({ next_fire_at: next ?? NEVER, attempts: 0, retry_after: null });
}

export async function retryLater(trx: Knex, lpId: string, attempts: number, after: Date): Promise<void> {
  await trx("schedule_states").where("launch_plan_id", lpId).update({ attempts, retry_after: after });
}

/** When the earliest fire (or retry) is due, if any. */
export async function nextDue(db: Knex): Promise<Date | undefined> {
  const row = await db("schedule_states")
    .select(db.raw("min(greatest(next_fire_at, coalesce(retry_after, next_fire_at))) as at"))
    .first();
  return (row as { at: Date | null } | undefined)?.at ?? undefined;
}
