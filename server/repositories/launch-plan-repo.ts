// SQL for the launch_plans table. At most one version per name is ACTIVE (a partial unique index enforces it).
import type { Knex } from "knex";
import type { ListSpec, Page, PageRequest } from "./list-spec.js";
import { withDbErrors } from "./pg-errors.js";
import {
  baseColumns,
  baseSortKeys,
  type EntityKey,
  type EntityRow,
  getEntities,
  getEntity,
  insertEntity,
  listEntities,
  listEntityNames,
  type NameRow,
  type NameScope,
} from "./versioned-entity.js";
import { WORKFLOW_LIST } from "./workflow-repo.js";

export const LP_STATE = { INACTIVE: 0, ACTIVE: 1 } as const;

export interface LaunchPlanRow extends EntityRow {
  workflow_id: string;
  spec: Buffer;
  closure: Buffer;
  state: number;
  schedule_type: string;
  launch_condition_type: string;
}

export type NewLaunchPlanRow = Omit<LaunchPlanRow, "id" | "created_at" | "updated_at" | "state">;

export function launchPlanListSpec(rpcName: string): ListSpec {
  return {
    rpcName,
    primary: "l",
    entities: {
      l: {
        ...baseColumns("l"),
        workflow_id: { sql: "l.workflow_id", kind: "int" },
        state: { sql: "l.state", kind: "int" },
        schedule_type: { sql: "l.schedule_type" },
        launch_condition_type: { sql: "l.launch_condition_type" },
        spec: { sql: "l.spec", kind: "bytes" },
        closure: { sql: "l.closure", kind: "bytes" },
      },
      w: WORKFLOW_LIST.entities.w ?? {},
    },
    joins: { w: (qb) => qb.join("workflows as w", "w.id", "l.workflow_id") },
    sortKeys: { ...baseSortKeys("l"), state: { sql: "l.state", type: "int" } },
    defaultSort: { key: "created_at", direction: "desc" },
    tieBreaker: { sql: "l.id", type: "bigint" },
  };
}

const LIST = launchPlanListSpec("ListLaunchPlans");
const ACTIVE_LIST = launchPlanListSpec("ListActiveLaunchPlans");

export const insertLaunchPlan = (db: Knex, row: NewLaunchPlanRow): Promise<LaunchPlanRow> =>
  insertEntity<LaunchPlanRow>(db, "launch_plans", row);

export const getLaunchPlan = (db: Knex, key: EntityKey): Promise<LaunchPlanRow | undefined> =>
  getEntity<LaunchPlanRow>(db, "launch_plans", key);

export const getLaunchPlans = (db: Knex, keys: readonly EntityKey[]): Promise<LaunchPlanRow[]> =>
  getEntities<LaunchPlanRow>(db, "launch_plans", keys);

export function getActiveLaunchPlan(
  db: Knex,
  scope: Required<NameScope>,
): Promise<LaunchPlanRow | undefined> {
  return withDbErrors(
    () =>
      db("launch_plans")
        .where({ project: scope.project, domain: scope.domain, name: scope.name, state: LP_STATE.ACTIVE })
        .first() as Promise<LaunchPlanRow | undefined>,
  );
}

/** Sets one version's state; activating first deactivates the active version of the same name. */
export async function setLaunchPlanState(
  trx: Knex.Transaction,
  key: EntityKey,
  state: number,
): Promise<boolean> {
  return withDbErrors(async () => {
    const { project, domain, name, version } = key;
    if (state === LP_STATE.ACTIVE) {
      await trx("launch_plans")
        .where({ project, domain, name, state: LP_STATE.ACTIVE })
        .whereNot({ version })
        .update({ state: LP_STATE.INACTIVE, updated_at: trx.fn.now() });
    }
    const n = await trx("launch_plans")
      .where({ project, domain, name, version })
      .update({ state, updated_at: trx.fn.now() });
    return n > 0;
  });
}

export const listLaunchPlans = (db: Knex, scope: NameScope, req: PageRequest): Promise<Page<LaunchPlanRow>> =>
  listEntities<LaunchPlanRow>(db, "launch_plans", "l", scope, req, LIST);

export const listActiveLaunchPlans = (
  db: Knex,
  scope: NameScope,
  req: PageRequest,
): Promise<Page<LaunchPlanRow>> =>
  listEntities<LaunchPlanRow>(db, "launch_plans", "l", scope, req, ACTIVE_LIST, (qb) =>
    qb.where("l.state", LP_STATE.ACTIVE),
  );

export const listLaunchPlanNames = (
  db: Knex,
  scope: NameScope,
  req: Omit<PageRequest, "filters">,
): Promise<Page<NameRow>> => listEntityNames(db, "launch_plans", "ListLaunchPlanIds", scope, req);
