// Matchable attributes per scope: (project, domain, workflow, launch_plan) with '' for levels that do not apply.
import type { Knex } from "knex";
import { withDbErrors } from "./pg-errors.js";

export interface AttributesScope {
  readonly project: string;
  readonly domain: string;
  readonly workflow: string;
  readonly launch_plan: string;
}

export interface ResourceAttributesRow extends AttributesScope {
  resource_type: number;
  attributes: Buffer;
}

const KEY = ["project", "domain", "workflow", "launch_plan", "resource_type"];

export function upsertAttributes(db: Knex, row: ResourceAttributesRow): Promise<void> {
  return withDbErrors(async () => {
    await db("resource_attributes")
      .insert(row)
      .onConflict(KEY)
      .merge({ attributes: row.attributes, updated_at: db.fn.now() });
  });
}

export function getAttributes(
  db: Knex,
  scope: AttributesScope,
  resourceType: number,
): Promise<ResourceAttributesRow | undefined> {
  return withDbErrors(
    () =>
      db("resource_attributes")
        .where({ ...scope, resource_type: resourceType })
        .first() as Promise<ResourceAttributesRow | undefined>,
  );
}

export function deleteAttributes(db: Knex, scope: AttributesScope, resourceType: number): Promise<boolean> {
  return withDbErrors(
    async () =>
      (await db("resource_attributes")
        .where({ ...scope, resource_type: resourceType })
        .delete()) > 0,
  );
}

export function listAttributes(db: Knex, resourceType: number): Promise<ResourceAttributesRow[]> {
  return withDbErrors(
    () =>
      db("resource_attributes").where({ resource_type: resourceType }).orderBy("id") as Promise<
        ResourceAttributesRow[]
      >,
  );
}

/** The most specific attributes for a workflow: workflow > project+domain > project. */
export function findEffective(
  db: Knex,
  target: { project: string; domain: string; workflow: string },
  resourceType: number,
): Promise<ResourceAttributesRow | undefined> {
  return withDbErrors(
    () =>
      db("resource_attributes")
        .where({ resource_type: resourceType, project: target.project, launch_plan: "" })
        .where((q) =>
          q
            .where({ domain: target.domain, workflow: target.workflow })
            .orWhere({ domain: target.domain, workflow: "" })
            .orWhere({ domain: "", workflow: "" }),
        )
        .orderByRaw("(workflow <> '') DESC, (domain <> '') DESC")
        .first() as Promise<ResourceAttributesRow | undefined>,
  );
}
